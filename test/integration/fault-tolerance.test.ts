// Kernels and clients that fail: a kernel killed or frozen is restarted under the same id (and
// given up on past restart_limit), a dropped websocket gets what it missed on reconnect, and
// SIGTERM ends everything cleanly even when a kernel ignores shutdown_request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient, type WireMsg } from '../helpers/raw-kernel-client.js';

const startKernel = async (gw: GatewayProcess, name = 'python3'): Promise<string> => {
  const res = await fetch(gw.url + '/api/kernels', { method: 'POST', body: JSON.stringify({ name }) });
  assert.equal(res.status, 201);
  return (await res.json()).id;
};

const streamText = (msgs: WireMsg[]): string => msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('');

describe('kernel death', () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway(['--KernelGatewayApp.restart_limit=2', '--KernelGatewayApp.restart_window=60', '--KernelGatewayApp.heartbeat_interval=0.5']);
  });
  after(async () => {
    await gw.stop();
  });

  test('a killed kernel is restarted under the same id; clients see restarting and carry on', async () => {
    const id = await startKernel(gw);
    const client = await RawKernelClient.connect(gw.url, id);
    try {
      await client.execute('x = 1');
      const [pid] = await kernelPids(id);
      const t0 = performance.now();
      process.kill(pid!, 'SIGKILL');
      await client.waitFor((m) => m.channel === 'iopub' && m.header.msg_type === 'status' && m.content.execution_state === 'restarting');
      assert.ok(await waitFor(async () => (await kernelPids(id)).some((p) => p !== pid), 20_000), 'a new process runs');
      const out = await client.execute('print("x" in globals())');
      console.log(`# killed kernel answering again after ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(streamText(out), 'False\n');
      const model = await (await fetch(`${gw.url}/api/kernels/${id}`)).json();
      assert.equal(model.id, id);
      assert.notEqual(model.execution_state, 'dead');
    } finally {
      client.close();
    }
  });

  test('a frozen kernel (heartbeat silent) counts as dead and is restarted', async () => {
    const id = await startKernel(gw);
    const [pid] = await kernelPids(id);
    process.kill(pid!, 'SIGSTOP');
    assert.ok(await waitFor(async () => !processAlive(pid!) || !(await kernelPids(id)).includes(pid!), 20_000), 'the frozen process is ended');
    assert.ok(await waitFor(async () => (await kernelPids(id)).length === 1, 20_000), 'a new process runs');
    const client = await RawKernelClient.connect(gw.url, id);
    try {
      assert.equal(streamText(await client.execute('print(1+1)')), '2\n');
    } finally {
      client.close();
    }
  });

  test('past restart_limit the kernel is declared dead, clients are told, and it is removed', async () => {
    const id = await startKernel(gw);
    const client = await RawKernelClient.connect(gw.url, id);
    try {
      for (let i = 0; i < 3; i++) {
        const pids = await kernelPids(id);
        if (pids.length === 0) break;
        for (const p of pids) process.kill(p, 'SIGKILL');
        await waitFor(async () => {
          if ((await fetch(`${gw.url}/api/kernels/${id}`)).status === 404) return true;
          const now = await kernelPids(id);
          return now.length > 0 && !now.includes(pids[0]!);
        }, 20_000);
      }
      await client.waitFor((m) => m.channel === 'iopub' && m.header.msg_type === 'status' && m.content.execution_state === 'dead', 20_000);
      assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${id}`)).status === 404, 10_000));
      assert.deepEqual(await kernelPids(id), []);
    } finally {
      client.close();
    }
  });
});

describe('reconnect without loss', () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway(['--KernelGatewayApp.replay_buffer_bytes=1048576']);
  });
  after(async () => {
    await gw.stop();
  });

  test('a dropped websocket with a session_id gets every missed message, in order, once', async () => {
    const id = await startKernel(gw);
    const first = await RawKernelClient.connect(gw.url, id, '?session_id=replay-me');
    // The kernel pauses after line 5 while the client drops: what was written to the socket in
    // the instant before the gateway saw it close cannot be known delivered (the protocol has
    // no acknowledgements), so the test keeps that instant empty and checks what follows.
    const code = 'import time, sys\nfor i in range(40):\n    print(f"line {i}", flush=True)\n    time.sleep(3 if i == 5 else 0.025)\n';
    const msgId = first.request('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    await first.waitFor((m) => m.header.msg_type === 'stream' && String(m.content.text).includes('line 5'));
    first.ws.terminate();
    const before = first.received.filter((m) => m.parent_header.msg_id === msgId);
    const connections = async (): Promise<number> => ((await (await fetch(`${gw.url}/api/kernels/${id}`)).json()) as { connections: number }).connections;
    assert.ok(await waitFor(async () => (await connections()) === 0, 10_000, 20), 'the gateway saw the drop');
    await new Promise((r) => setTimeout(r, 600));
    const second = await RawKernelClient.connect(gw.url, id, '?session_id=replay-me');
    try {
      await second.waitFor((m) => m.parent_header.msg_id === msgId && m.header.msg_type === 'execute_reply');
      await second.waitFor((m) => m.parent_header.msg_id === msgId && m.header.msg_type === 'status' && m.content.execution_state === 'idle');
      const after = second.received.filter((m) => m.parent_header.msg_id === msgId);
      const lines = (streamText(before) + streamText(after)).split('\n').filter(Boolean);
      assert.deepEqual(lines, Array.from({ length: 40 }, (_, i) => `line ${i}`));
      const ids = [...before, ...after].map((m) => m.header.msg_id);
      assert.equal(new Set(ids).size, ids.length, 'no message twice');
      assert.equal(second.received.filter((m) => m.header.msg_type === 'gateway_replay_dropped').length, 0);
    } finally {
      second.close();
    }
  });

  test('past the buffer limit the reconnecting client is told what was dropped', async () => {
    const small = await startGateway(['--KernelGatewayApp.replay_buffer_bytes=4000']);
    try {
      const id = await startKernel(small);
      const a = await RawKernelClient.connect(small.url, id, '?session_id=s1');
      await a.execute('pass');
      a.ws.terminate();
      await new Promise((r) => setTimeout(r, 200));
      const other = await RawKernelClient.connect(small.url, id);
      await other.execute('for i in range(200): print("y" * 100, flush=True)');
      other.close();
      const b = await RawKernelClient.connect(small.url, id, '?session_id=s1');
      try {
        const notice = await b.waitFor((m) => m.header.msg_type === 'gateway_replay_dropped');
        assert.ok(Number(notice.content.dropped_messages) > 0);
        assert.ok(Number(notice.content.dropped_bytes) > 0);
      } finally {
        b.close();
      }
    } finally {
      await small.stop();
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM closes websockets with 1001, ends kernels (even one ignoring shutdown_request), removes connection files, exits 0', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'kg-runtime-'));
    const gw = await startGateway([], { JUPYTER_RUNTIME_DIR: runtime });
    const stubborn = await startKernel(gw);
    const normal = await startKernel(gw, 'xpython');
    const client = await RawKernelClient.connect(gw.url, stubborn);
    await client.execute([
      'k = get_ipython().kernel',
      'ignore = lambda *a, **kw: None',
      'k.control_handlers["shutdown_request"] = ignore',
      'k.shell_handlers["shutdown_request"] = ignore',
      'import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)',
    ].join('\n'));
    const pids = [...(await kernelPids(stubborn)), ...(await kernelPids(normal))];
    assert.equal(pids.length, 2);
    assert.equal(readdirSync(runtime).length, 2);
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    const t0 = Date.now();
    assert.equal(await gw.stop('SIGTERM'), 0);
    console.log(`# SIGTERM to exit with a stubborn kernel: ${Date.now() - t0} ms`);
    assert.equal(await closed, 1001);
    assert.ok(pids.every((p) => !processAlive(p)), 'no kernel process left');
    assert.deepEqual(readdirSync(runtime), [], 'connection files removed');
    assert.ok(existsSync(runtime));
  });
});

describe('lifecycle races', () => {
  test('concurrent restarts join; restart then delete and SIGTERM mid-start leave no process behind', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'kg-runtime-'));
    const gw = await startGateway([], { JUPYTER_RUNTIME_DIR: runtime });
    try {
      const id = await startKernel(gw);
      const [a, b] = await Promise.all([0, 1].map(() => fetch(`${gw.url}/api/kernels/${id}/restart`, { method: 'POST' })));
      assert.deepEqual([a!.status, b!.status], [200, 200]);
      assert.equal((await kernelPids(id)).length, 1, 'one process after two concurrent restarts');

      const restarting = fetch(`${gw.url}/api/kernels/${id}/restart`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
      await restarting;
      assert.ok(await waitFor(async () => (await kernelPids(id)).length === 0, 10_000), 'no orphan after restart + delete');
    } finally {
      const starting = fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(await gw.stop('SIGTERM'), 0);
      await starting;
    }
    assert.ok(await waitFor(() => readdirSync(runtime).length === 0, 5000), 'every kernel, the one still starting included, is gone with its connection file');
  });
});

describe('a gateway killed outright', () => {
  test('kernels started with an env (as Jupyter Server and Notebook clients send) end with a SIGKILLed gateway', async () => {
    const gw = await startGateway();
    const res = await fetch(gw.url + '/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3', env: { KERNEL_USERNAME: 'ann' } }) });
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };
    const client = await RawKernelClient.connect(gw.url, id);
    const out = await client.execute('import os; print(os.environ.get("JPY_PARENT_PID"))');
    client.close();
    assert.equal(streamText(out), `${gw.proc.pid}\n`, 'the kernel knows its parent');
    const pids = await kernelPids(id);
    assert.equal(pids.length, 1);
    await gw.stop('SIGKILL');
    // ipykernel polls its parent every second and exits once it is gone.
    assert.ok(await waitFor(() => pids.every((p) => !processAlive(p)), 15_000), 'the kernel did not outlive its gateway');
  });
});
