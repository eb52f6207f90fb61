// notebook-http's execution bounds through the real gateway process and real ipykernel pools of
// one kernel: a cell running past NotebookHTTPPersonality.execution_timeout is answered 504 (JSON)
// and its kernel interrupted, not restarted, then given back to the pool once the interrupted
// execution ended; a client that disconnects mid-execution has its kernel interrupted the same
// way; with no limit (the default) a slow cell is answered; a kernel that ignores the interrupt
// is ended after its 10 s grace and replaced by a fresh, seeded one.
//
// The pool's kernels are found by their command lines, which name connection files in the
// JUPYTER_RUNTIME_DIR each gateway is given. The sleeping cells sleep far longer than any bound
// asserted here, so "answered in time" can only mean the execution was cut short.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { processAlive, processesMentioning, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { tempDir, writeNotebook } from './notebook-http-fixtures.js';

/** Seconds the /sleep cell sleeps: well past every bound below. */
const LONG_SLEEP_S = 60;

const CELLS = [
  'import time, signal\ncounter = 0',
  `# GET /sleep\ntime.sleep(${LONG_SLEEP_S})\nprint("slept")`,
  '# GET /sleep3\ntime.sleep(3)\nprint("slept 3")',
  '# GET /fast\nprint("fast")',
  '# GET /count\ncounter += 1\nprint(counter)',
  // Ignores the interrupt for longer than the whole test may take.
  '# GET /stubborn\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(600)\nprint("done")',
];

/** Pids of the kernel processes whose connection file lies in `runtime`. */
const kernelPidsIn = (runtime: string): number[] => processesMentioning(`${runtime}/kernel-`);

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

async function get(gw: GatewayProcess, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(gw.url + path);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** Sends GET `path` on a raw socket and destroys the socket after `ms` ms, before any answer. */
function getAndHangUp(gw: GatewayProcess, path: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const sock = connect(gw.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
    sock.once('connect', () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nConnection: keep-alive\r\n\r\n`);
      setTimeout(() => {
        sock.destroy();
        resolve(received);
      }, ms);
    });
    sock.once('close', () => resolve(received));
  });
}

describe('execution_timeout=2', () => {
  let gw: GatewayProcess;
  let dir: string;
  let runtime: string;

  before(async () => {
    dir = tempDir('kg-nbtimeout');
    runtime = tempDir('kg-nbtimeout-runtime');
    const nb = writeNotebook(dir, 'timeouts.ipynb', CELLS);
    gw = await startGateway(
      ['--KernelGatewayApp.api=kernel_gateway.notebook_http', `--KernelGatewayApp.seed_uri=${nb}`, '--NotebookHTTPPersonality.execution_timeout=2'],
      { JUPYTER_RUNTIME_DIR: runtime },
      60_000,
    );
    // The pool (of one) is ready once an endpoint answers.
    assert.equal((await get(gw, '/fast')).status, 200);
  });

  after(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  });

  test('a cell past the timeout is a 504 JSON error; the same kernel, interrupted, serves the next request at once with its state', { timeout: 120_000 }, async () => {
    const pids = kernelPidsIn(runtime);
    assert.equal(pids.length, 1, `one pool kernel: ${pids.join(', ')}`);
    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '1\n' });

    const t0 = performance.now();
    const res = await fetch(gw.url + '/sleep');
    const answeredAfter = seconds(t0);
    assert.equal(res.status, 504);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Gateway Timeout');
    assert.match(body.message, /execution_timeout/);
    assert.match(body.message, /\/sleep/);
    assert.ok(answeredAfter >= 1.5, `not answered before the timeout (${answeredAfter.toFixed(1)} s)`);
    assert.ok(answeredAfter < LONG_SLEEP_S / 2, `answered at the timeout, not when the cell ended (${answeredAfter.toFixed(1)} s)`);

    // Asked right away: waits, if it must, for the interrupted execution, then runs.
    assert.deepEqual(await get(gw, '/fast'), { status: 200, type: 'text/plain', body: 'fast\n' });
    const total = seconds(t0);
    console.log(`# 504 after ${answeredAfter.toFixed(1)} s, next request answered ${total.toFixed(1)} s after the first was sent`);
    assert.ok(total < 20, `the kernel came back well before the ${LONG_SLEEP_S} s sleep would have ended (${total.toFixed(1)} s)`);

    // Interrupted, not restarted or replaced: same process, state kept.
    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '2\n' });
    assert.deepEqual(kernelPidsIn(runtime), pids);
    assert.doesNotMatch(gw.logs(), /did not become idle after an interrupt/);
  });

  test('several timed-out requests in a row leave the pool working', { timeout: 180_000 }, async () => {
    const pids = kernelPidsIn(runtime);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(gw.url + '/sleep');
      assert.equal(res.status, 504);
      assert.equal(((await res.json()) as { reason: string }).reason, 'Gateway Timeout');
    }
    // A request that fits in the timeout is answered normally.
    assert.deepEqual(await get(gw, '/fast'), { status: 200, type: 'text/plain', body: 'fast\n' });
    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '3\n' });
    assert.deepEqual(kernelPidsIn(runtime), pids);
  });

  // Last in this gateway: it replaces the pool's kernel.
  test('a kernel that ignores the interrupt is ended after its grace and replaced by a fresh, seeded kernel', { timeout: 180_000 }, async () => {
    const [oldPid] = kernelPidsIn(runtime);
    assert.ok(oldPid !== undefined);
    const t0 = performance.now();
    const res = await fetch(gw.url + '/stubborn');
    assert.equal(res.status, 504);
    const body = (await res.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Gateway Timeout');
    assert.match(body.message, /execution_timeout/);

    // Queued behind the recovery: served by the replacement.
    const fast = await get(gw, '/fast');
    const recovered = seconds(t0);
    console.log(`# stubborn kernel: 504, then a working kernel again after ${recovered.toFixed(1)} s`);
    assert.deepEqual(fast, { status: 200, type: 'text/plain', body: 'fast\n' });
    // 2 s timeout + 10 s grace + a kernel start; far less than the 600 s the cell would sleep.
    assert.ok(recovered < 90, `recovered in ${recovered.toFixed(1)} s`);

    assert.ok(await waitFor(() => !processAlive(oldPid) || !kernelPidsIn(runtime).includes(oldPid), 20_000), 'the unresponsive kernel process is gone');
    const now = kernelPidsIn(runtime);
    assert.equal(now.length, 1, `one pool kernel again: ${now.join(', ')}`);
    assert.notEqual(now[0], oldPid);
    // Freshly seeded: the counter starts over.
    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '1\n' });
    assert.match(gw.logs(), /did not become idle after an interrupt/);
  });
});

describe('no execution_timeout (the default)', () => {
  let gw: GatewayProcess;
  let dir: string;
  let runtime: string;

  before(async () => {
    dir = tempDir('kg-nbnotimeout');
    runtime = tempDir('kg-nbnotimeout-runtime');
    const nb = writeNotebook(dir, 'timeouts.ipynb', CELLS);
    gw = await startGateway(['--KernelGatewayApp.api=kernel_gateway.notebook_http', `--KernelGatewayApp.seed_uri=${nb}`], { JUPYTER_RUNTIME_DIR: runtime }, 60_000);
    assert.equal((await get(gw, '/fast')).status, 200);
  });

  after(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  });

  test('a cell running 3 s is answered 200', { timeout: 120_000 }, async () => {
    const t0 = performance.now();
    assert.deepEqual(await get(gw, '/sleep3'), { status: 200, type: 'text/plain', body: 'slept 3\n' });
    assert.ok(seconds(t0) >= 2.5, `the cell ran its course (${seconds(t0).toFixed(1)} s)`);
  });

  test('a client that disconnects mid-execution gets its kernel interrupted; the next request is answered at once', { timeout: 120_000 }, async () => {
    const pids = kernelPidsIn(runtime);
    assert.equal(pids.length, 1, `one pool kernel: ${pids.join(', ')}`);
    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '1\n' });

    const t0 = performance.now();
    const received = await getAndHangUp(gw, '/sleep', 500);
    assert.equal(received, '', 'nothing was answered before the client left');
    const fast = await get(gw, '/fast');
    const total = seconds(t0);
    console.log(`# client left after 0.5 s; next request answered ${total.toFixed(1)} s after the first was sent`);
    assert.deepEqual(fast, { status: 200, type: 'text/plain', body: 'fast\n' });
    // Without the interrupt the kernel would be busy for the whole 60 s sleep (there is no timeout).
    assert.ok(total < 30, `the abandoned execution was cut short (${total.toFixed(1)} s)`);

    assert.deepEqual(await get(gw, '/count'), { status: 200, type: 'text/plain', body: '2\n' });
    assert.deepEqual(kernelPidsIn(runtime), pids, 'the same kernel process, interrupted, not replaced');
    assert.doesNotMatch(gw.logs(), /did not become idle after an interrupt/);
  });

  test('a client that leaves while queued behind another request gives its place up', { timeout: 120_000 }, async () => {
    const pids = kernelPidsIn(runtime);
    const t0 = performance.now();
    const slow = get(gw, '/sleep3');
    await new Promise((r) => setTimeout(r, 300));
    // Queued (the one kernel is busy), then gone: the /sleep it asked for never runs.
    assert.equal(await getAndHangUp(gw, '/sleep', 500), '');
    assert.deepEqual(await slow, { status: 200, type: 'text/plain', body: 'slept 3\n' });
    assert.deepEqual(await get(gw, '/fast'), { status: 200, type: 'text/plain', body: 'fast\n' });
    assert.ok(seconds(t0) < 30, `the queued request left no execution behind (${seconds(t0).toFixed(1)} s)`);
    assert.deepEqual(kernelPidsIn(runtime), pids);
  });
});
