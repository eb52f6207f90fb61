// A gateway under a low open-file limit (ulimit -n): kernels are started one after another until
// one does not fit. That start gets a 503 in the original's {reason, message} shape, nothing
// crashes (an uncaught EMFILE from the heartbeat's socket once ended the gateway), the kernels it
// has keep working, a start succeeds again once some are deleted, and no kernel process is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelPids, processesMentioning, startGateway, waitFor } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

/** About 12 fds a kernel: room for a handful of kernels besides the gateway's own. */
const OPEN_FILE_LIMIT = 200;
const MAX_STARTS = 40;
const DELETED = 4;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function startKernel(url: string): Promise<Answer> {
  const res = await fetch(`${url}/api/kernels`, { method: 'POST', body: '{}' });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test(`under ulimit -n ${OPEN_FILE_LIMIT}, the start that does not fit gets a 503 and the gateway serves on`, { timeout: 600_000 }, async () => {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'kg-fd-limit-'));
  const gw = await startGateway(['--KernelGatewayApp.kernel_launch_timeout=120', '--JupyterWebsocketPersonality.list_kernels=True'], { JUPYTER_RUNTIME_DIR: runtimeDir }, 60_000, { openFileLimit: OPEN_FILE_LIMIT });
  const running = (): boolean => gw.proc.exitCode === null && gw.proc.signalCode === null;
  const ids: string[] = [];
  const everStarted: string[] = [];
  let exitCode: number | null = null;
  try {
    let refused: Answer | undefined;
    for (let i = 0; i < MAX_STARTS && !refused; i++) {
      const answer = await startKernel(gw.url);
      if (answer.status !== 201) refused = answer;
      else {
        ids.push(answer.body.id as string);
        everStarted.push(answer.body.id as string);
      }
    }
    assert.ok(refused, `all ${MAX_STARTS} starts succeeded under ulimit -n ${OPEN_FILE_LIMIT}`);
    console.log(`# ulimit -n ${OPEN_FILE_LIMIT}: ${ids.length} kernels started, then ${refused.status} ${JSON.stringify(refused.body)}`);
    assert.ok(running(), `the gateway is still running:\n${gw.logs().slice(-3000)}`);
    assert.equal((await fetch(`${gw.url}/api`)).status, 200);
    assert.ok(ids.length > DELETED, `only ${ids.length} kernels started before the refusal: ${JSON.stringify(refused.body)}`);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.deepEqual(Object.keys(refused.body).sort(), ['message', 'reason']);
    assert.equal(refused.body.reason, 'Service Unavailable');
    assert.match(String(refused.body.message), /out of file descriptors \(EMFILE\)/i);
    const listed = (await (await fetch(`${gw.url}/api/kernels`)).json()) as { id: string }[];
    assert.deepEqual(listed.map((k) => k.id).sort(), [...ids].sort(), 'every kernel started is still there');
    assert.equal(processesMentioning(runtimeDir).length, ids.length, 'the refused start left no process');

    const client = await RawKernelClient.connect(gw.url, ids[0]!);
    try {
      const msgs = await client.execute('1+1');
      const result = msgs.find((m) => m.header.msg_type === 'execute_result');
      assert.equal((result?.content.data as Record<string, unknown> | undefined)?.['text/plain'], '2');
    } finally {
      client.close();
    }

    for (const id of ids.splice(0, DELETED)) assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
    // A deleted kernel's sockets are freed by ZeroMQ's reaper thread shortly after the answer:
    // until then the start may still be refused, with the same 503.
    let again: Answer | undefined;
    assert.ok(
      await waitFor(async () => {
        again = await startKernel(gw.url);
        if (again.status === 201) return true;
        assert.equal(again.status, 503, JSON.stringify(again.body));
        return false;
      }, 60_000, 500),
      `no start succeeded after ${DELETED} kernels were deleted: ${JSON.stringify(again?.body)}`,
    );
    ids.push(again!.body.id as string);
    everStarted.push(again!.body.id as string);
    assert.ok(running(), 'the gateway is still running');
  } finally {
    for (const id of ids) await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' }).catch(() => undefined);
    exitCode = await gw.stop();
  }
  assert.equal(exitCode, 0, `the gateway exits cleanly:\n${gw.logs().slice(-3000)}`);
  assert.ok(await waitFor(() => processesMentioning(runtimeDir).length === 0, 10_000), 'no kernel process is left');
  for (const id of everStarted) assert.deepEqual(await kernelPids(id), []);
  assert.doesNotMatch(gw.logs(), /unhandled|uncaught/i);
});
