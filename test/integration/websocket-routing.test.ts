// Routing between several websockets on one kernel, the connections count, refusals before
// the upgrade, and garbage frames that must harm nobody.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

let gw: GatewayProcess;
let kernelId: string;

before(async () => {
  gw = await startGateway();
  kernelId = (await (await fetch(gw.url + '/api/kernels', { method: 'POST', body: '{}' })).json()).id;
});
after(async () => {
  await gw.stop();
});

const model = async (): Promise<{ connections: number; execution_state: string }> => (await fetch(`${gw.url}/api/kernels/${kernelId}`)).json();

test('two clients on one kernel: both see iopub, each gets only its own replies', async () => {
  const a = await RawKernelClient.connect(gw.url, kernelId, '?session_id=a');
  const b = await RawKernelClient.connect(gw.url, kernelId);
  try {
    assert.ok(await waitFor(async () => (await model()).connections === 2), 'connections counts both');
    const fromA = await a.execute('print("from a")');
    const idA = fromA[0]!.parent_header.msg_id!;
    await b.waitFor((m) => m.channel === 'iopub' && m.parent_header.msg_id === idA && m.header.msg_type === 'stream');
    assert.ok(fromA.some((m) => m.channel === 'shell' && m.header.msg_type === 'execute_reply'));
    const kinfo = b.request('kernel_info_request', {});
    await b.waitFor((m) => m.parent_header.msg_id === kinfo && m.header.msg_type === 'kernel_info_reply');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.received.filter((m) => m.channel === 'shell' && m.parent_header.msg_id === idA).length, 0, 'b never sees a\'s reply');
    assert.equal(a.received.filter((m) => m.channel === 'shell' && m.parent_header.msg_id === kinfo).length, 0, 'a never sees b\'s reply');
    assert.equal(b.received.filter((m) => m.channel === 'iopub' && m.parent_header.msg_id === kinfo).length > 0, true);
  } finally {
    a.close();
    b.close();
  }
  assert.ok(await waitFor(async () => (await model()).connections === 0), 'closed sockets are no longer counted');
});

test('garbage frames are ignored: the sender and other clients keep working', async () => {
  const bad = await RawKernelClient.connect(gw.url, kernelId);
  const good = await RawKernelClient.connect(gw.url, kernelId);
  try {
    const garbage: (string | Buffer)[] = [
      'not json at all',
      '[]',
      '{"header": "x"}',
      '{"channel": "shell", "content": {}}',
      JSON.stringify({ channel: 'nonsense', header: { msg_id: 'x', msg_type: 'execute_request' }, content: { code: 'print(1)' } }),
      JSON.stringify({ channel: 'iopub', header: { msg_id: 'y', msg_type: 'status' }, content: {} }),
      Buffer.from([0, 0, 0, 5, 1, 2, 3]),
      Buffer.alloc(1024, 0xff),
    ];
    for (const g of garbage) bad.ws.send(g);
    const out = await bad.execute('print("still here")');
    assert.ok(out.some((m) => m.header.msg_type === 'stream' && m.content.text === 'still here\n'));
    const out2 = await good.execute('print(2+2)');
    assert.ok(out2.some((m) => m.header.msg_type === 'stream' && m.content.text === '4\n'));
    assert.equal(bad.ws.readyState, WebSocket.OPEN);
  } finally {
    bad.close();
    good.close();
  }
});

test('an unknown or malformed kernel id is refused with 404 before the upgrade', async () => {
  for (const id of ['00000000-0000-0000-0000-000000000000', 'garbage']) {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/api/kernels/${id}/channels`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('upgrade should have been refused')));
      ws.once('error', () => undefined);
    });
    assert.equal(status, 404);
  }
});

test('a plain GET on the channels URL is a 400, as Jupyter Server answers', async () => {
  const res = await fetch(`${gw.url}/api/kernels/${kernelId}/channels`);
  assert.equal(res.status, 400);
  assert.equal((await res.json()).reason, 'Bad Request');
});

test('a client that stops reading stalls no one: others finish, the kernel state stays right, drops are announced', async () => {
  const slow = await RawKernelClient.connect(gw.url, kernelId);
  const fast = await RawKernelClient.connect(gw.url, kernelId);
  // Every client gets its lines in order; a client that fell too far behind is told what it missed.
  const check = (client: RawKernelClient, parent: string, who: string): number => {
    const numbers = client.received
      .filter((m) => m.parent_header.msg_id === parent && m.header.msg_type === 'stream')
      .map((m) => String(m.content.text))
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.slice(0, 4)));
    numbers.forEach((n, i) => i > 0 && assert.ok(n > numbers[i - 1]!, `${who}: lines in order, once`));
    if (numbers.length < 400) {
      const notice = client.received.find((m) => m.header.msg_type === 'gateway_replay_dropped');
      assert.ok(notice && Number(notice.content.dropped_messages) > 0, `${who}: missed lines are announced`);
    }
    return numbers.length;
  };
  try {
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const t0 = performance.now();
    const out = await fast.execute('for i in range(400):\n    print(f"{i:04d}" + "x" * 100_000, flush=True)');
    const parent = out[0]!.parent_header.msg_id!;
    const got = check(fast, parent, 'the reading client');
    console.log(`# 40 MB to a reading client while another read nothing: ${(performance.now() - t0).toFixed(0)} ms, ${got} of 400 lines`);
    assert.equal((await model()).execution_state, 'idle', 'the kernel state follows the kernel, not the clients');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.waitFor((m) => m.parent_header.msg_id === parent && m.header.msg_type === 'status' && m.content.execution_state === 'idle', 30_000);
    check(slow, parent, 'the stalled client');
  } finally {
    slow.close();
    fast.close();
  }
});

test('input() right after a kernel starts reaches the client (stdin is connected before the kernel is handed out)', async () => {
  for (let i = 0; i < 4; i++) {
    const id = (await (await fetch(gw.url + '/api/kernels', { method: 'POST', body: '{}' })).json()).id;
    const client = await RawKernelClient.connect(gw.url, id);
    try {
      client.request('execute_request', { code: 'answer = input("q? ")', silent: false, store_history: false, user_expressions: {}, allow_stdin: true, stop_on_error: false });
      const request = await client.waitFor((m) => m.channel === 'stdin' && m.header.msg_type === 'input_request', 10_000);
      assert.equal(request.content.prompt, 'q? ');
    } finally {
      client.close();
      await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' });
    }
  }
});
