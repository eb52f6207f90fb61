// A fuzz-style barrage of bad input at every door of the gateway (REST bodies and ids, path
// traversal, oversized bodies, garbage and oversized websocket frames, wrongly signed ZeroMQ
// messages): each gets a clear 4xx or is dropped and logged, and afterwards nothing is lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { kernelPids, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

const MAX_BODY = 200_000;
const MAX_MESSAGE = 100_000;
let gw: GatewayProcess;
let kernelId: string;
let kernelPid: number;
let tried = 0;

/** A small deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

before(async () => {
  gw = await startGateway([`--KernelGatewayApp.max_body_size=${MAX_BODY}`, `--KernelGatewayApp.ws_max_message_size=${MAX_MESSAGE}`, '--JupyterWebsocketPersonality.list_kernels=True']);
  const res = await fetch(gw.url + '/api/kernels', { method: 'POST', body: '{}' });
  kernelId = (await res.json()).id;
  kernelPid = (await kernelPids(kernelId))[0]!;
});
after(async () => {
  await gw.stop();
});

async function expectClientError(path: string, init: RequestInit, allowed: number[] = [400, 404, 405, 413, 414, 415]): Promise<void> {
  tried++;
  const res = await fetch(gw.url + path, init);
  assert.ok(allowed.includes(res.status), `${init.method ?? 'GET'} ${path.slice(0, 80)} -> ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (res.status !== 405 || type.includes('json')) {
    assert.match(type, /application\/json/, `${path.slice(0, 80)}: JSON error body`);
    const body = await res.json();
    assert.equal(typeof body.reason, 'string');
    assert.equal(typeof body.message, 'string');
  } else await res.arrayBuffer();
}

test('REST: malformed JSON, wrong types, huge bodies, invalid ids, path traversal', async () => {
  const rand = prng(42);
  const json = { 'Content-Type': 'application/json' };
  const malformed = ['{', '{"name": }', '[1,2', 'null null', '{"name": "python3"', '\u0000\u0001', '{"a":' + '['.repeat(5000)];
  for (let i = 0; i < 20; i++) malformed.push(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => String.fromCharCode(32 + Math.floor(rand() * 90))).join('') + '{');
  for (const body of malformed) {
    await expectClientError('/api/kernels', { method: 'POST', body, headers: json });
    await expectClientError('/api/sessions', { method: 'POST', body, headers: json });
    await expectClientError(`/api/sessions/x`, { method: 'PATCH', body, headers: json });
  }
  for (const body of [{ env: 'x' }, { env: [1] }, { env: 5 }, { name: 5 }, { name: ['python3'] }, 42, 'str', [1, 2], true]) {
    await expectClientError('/api/kernels', { method: 'POST', body: JSON.stringify(body), headers: json });
  }
  for (const body of [{ path: 5, type: 'notebook' }, { path: 'a.py', type: 7 }, { path: 'b.py', type: 'console', kernel: 'x' }, { path: 'c.py', type: 'console', kernel: { id: 'nope' } }, {}]) {
    await expectClientError('/api/sessions', { method: 'POST', body: JSON.stringify(body), headers: json });
  }
  const huge = 'x'.repeat(MAX_BODY + 1000);
  await expectClientError('/api/kernels', { method: 'POST', body: JSON.stringify({ name: huge }), headers: json }, [413]);
  await expectClientError('/api/sessions', { method: 'POST', body: huge }, [413]);
  const ids = ['nope', '0', '-1', 'x'.repeat(2000), '%00', '%E2%98%83', '..%2F..%2Fetc', '00000000-0000-0000-0000-00000000000g', "1'; DROP TABLE kernels;--", '%ff%fe'];
  for (const id of ids) {
    for (const [method, suffix] of [['GET', ''], ['DELETE', ''], ['POST', '/interrupt'], ['POST', '/restart'], ['GET', '/channels']] as const) {
      await expectClientError(`/api/kernels/${id}${suffix}`, { method });
    }
    await expectClientError(`/api/sessions/${id}`, { method: 'GET' });
  }
  const traversal = ['../kernel.json', '..%2Fkernel.json', '..%2F..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd', '%2Fetc%2Fpasswd', '....//....//etc/passwd', 'logo-64x64.png%00.js', '..\\..\\etc\\passwd'];
  for (const file of traversal) await expectClientError(`/kernelspecs/python3/${file}`, { method: 'GET' });
  await expectClientError('/kernelspecs/..%2F..%2F..%2Fetc/passwd', { method: 'GET' });
  for (const method of ['PUT', 'PATCH', 'DELETE']) await expectClientError('/api/kernels', { method });
});

test('websocket: garbage, unknown channels and oversized frames harm no one else', async () => {
  const rand = prng(7);
  const victim = await RawKernelClient.connect(gw.url, kernelId);
  const bystander = await RawKernelClient.connect(gw.url, kernelId, '?session_id=bystander');
  const frames: (string | Buffer)[] = [];
  for (let i = 0; i < 40; i++) frames.push(Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))));
  for (let i = 0; i < 20; i++) frames.push(JSON.stringify({ channel: ['shell', 'iopub', 'x', '', null][i % 5], header: i % 3 ? { msg_type: 'execute_request' } : 'h', content: { code: 'print(1)' } }));
  frames.push('{"header": {"msg_id": "a", "msg_type": "execute_request"}, "channel": "shell", "content": "not an object"}');
  for (const f of frames) {
    tried++;
    victim.ws.send(f);
  }
  assert.match((await victim.execute('print("victim ok")')).map((m) => String(m.content.text ?? '')).join(''), /victim ok/);

  const oversized = await RawKernelClient.connect(gw.url, kernelId);
  const closed = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the oversized message did not close its socket within 15 s')), 15_000);
    oversized.ws.once('close', (code) => (clearTimeout(timer), resolve(code)));
  });
  tried++;
  oversized.ws.send(Buffer.alloc(MAX_MESSAGE + 10, 1));
  assert.equal(await closed, 1009, 'a message over ws_max_message_size closes only that socket, with 1009 (message too big)');

  const out = await bystander.execute('print("bystander ok")');
  assert.match(out.map((m) => String(m.content.text ?? '')).join(''), /bystander ok/);
  assert.equal(victim.ws.readyState, WebSocket.OPEN);
  victim.close();
  bystander.close();
});

test('ZeroMQ: wrongly signed messages from the kernel are dropped and logged', async () => {
  const client = await RawKernelClient.connect(gw.url, kernelId);
  try {
    const out = await client.execute([
      'import json',
      'sock = get_ipython().kernel.iopub_socket',
      'h = json.dumps({"msg_id": "forged", "msg_type": "stream", "session": "x", "username": "x", "date": "2020-01-01T00:00:00Z", "version": "5.3"}).encode()',
      'for sig in (b"0" * 64, b"", b"nonsense"):',
      '    sock.send_multipart([b"<IDS|MSG>", sig, h, b"{}", b"{}", json.dumps({"name": "stdout", "text": "FORGED"}).encode()])',
      'sock.send_multipart([b"<IDS|MSG>"])',
      'print("after forgery")',
    ].join('\n'));
    tried += 4;
    assert.match(out.map((m) => String(m.content.text ?? '')).join(''), /after forgery/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(client.received.filter((m) => m.header.msg_id === 'forged').length, 0, 'no forged message reached a client');
    assert.match(gw.logs(), /Dropped a message on iopub: bad signature/);
  } finally {
    client.close();
  }
});

test('afterwards: the gateway serves, the kernel is the same process, nothing was lost', async () => {
  const client = await RawKernelClient.connect(gw.url, kernelId);
  try {
    const out = await client.execute('print(sum(range(101)))');
    assert.equal(out.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text).join(''), '5050\n');
  } finally {
    client.close();
  }
  assert.deepEqual(await kernelPids(kernelId), [kernelPid], 'the kernel was never restarted or replaced');
  const kernels = await (await fetch(gw.url + '/api/kernels')).json();
  assert.deepEqual(kernels.map((k: { id: string }) => k.id), [kernelId], 'no kernel created or lost');
  console.log(`# bad inputs tried: ${tried}; kernels lost: 0`);
});
