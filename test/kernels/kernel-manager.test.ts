// The kernel manager with real kernels, in process: one stop sequence per shutdown, no timer
// of ours left behind, and start retries bounded by the one launch timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelManager } from '../../src/kernels/kernel-manager.js';
import { KernelSpecManager } from '../../src/kernels/kernelspecs.js';
import { jupyterDataPath } from '../../src/kernels/jupyter-paths.js';
import { RunningKernel } from '../../src/kernels/running-kernel.js';
import type { Logger } from '../../src/kernels/logger.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('KernelManager with real kernels', () => {
  let root: string;
  let kernels: KernelManager;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'kg-manager-'));
    // A "kernel" that exits after 2.5 s without ever answering: a retryable early exit.
    const late = join(root, 'data', 'kernels', 'exits-late');
    mkdirSync(late, { recursive: true });
    writeFileSync(join(late, 'kernel.json'), JSON.stringify({ argv: ['python3', '-c', 'import time, sys; time.sleep(2.5); sys.exit(3)', '{connection_file}'], display_name: 'Exits late', language: 'none' }));
    // Run 1 exits after 20 s (a retryable early exit), run 2 is a kernel, run 3 (the restart) is
    // a kernel after 14 s.
    const once = join(root, 'data', 'kernels', 'fails-once');
    mkdirSync(once, { recursive: true });
    const count = join(root, 'fails-once.count');
    // The python3 kernelspec's interpreter: the one on PATH may lack ipykernel.
    const python = new KernelSpecManager(() => jupyterDataPath(), () => undefined).get('python3')?.spec.argv[0] ?? 'python3';
    const script = `n=$(( $(cat '${count}' 2>/dev/null || echo 0) + 1 )); echo $n > '${count}'; if [ $n = 1 ]; then sleep 20; exit 3; fi; if [ $n = 3 ]; then sleep 14; fi; exec '${python}' -m ipykernel_launcher -f "$0"`;
    writeFileSync(join(once, 'kernel.json'), JSON.stringify({ argv: ['bash', '-c', script, '{connection_file}'], display_name: 'Fails once', language: 'python' }));
    const specs = new KernelSpecManager(() => [join(root, 'data'), ...jupyterDataPath()], () => undefined);
    mkdirSync(join(root, 'runtime'));
    kernels = new KernelManager({ specs, defaultKernelName: 'python3', runtimeDir: join(root, 'runtime'), launchTimeoutMs: 30_000, envPolicy: { processWhitelist: [] }, log: quiet, heartbeatIntervalMs: 0 });
  });

  after(async () => {
    await kernels.shutdownAll(true);
    rmSync(root, { recursive: true, force: true });
  });

  test('a shutdown runs one stop sequence and leaves no timer of ours behind', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const kernel = await kernels.start({ name: 'python3' });
    const proto = RunningKernel.prototype as unknown as { stopProcess: (...args: unknown[]) => Promise<void> };
    const original = proto.stopProcess;
    let stops = 0;
    proto.stopProcess = function (this: unknown, ...args: unknown[]) {
      stops++;
      return original.apply(this, args);
    };
    try {
      await kernels.shutdown(kernel.id);
    } finally {
      proto.stopProcess = original;
    }
    assert.equal(stops, 1, 'one stop sequence');
    assert.equal(kernel.pid !== undefined && processAlive(kernel.pid), false, 'the process is gone');
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter <= timersBefore, `timers before ${timersBefore}, after ${timersAfter}`);
  });

  test('one lifecycle state, set before the event that announces it', async () => {
    const kernel = await kernels.start({ name: 'python3' });
    assert.equal(kernel.state, 'ready');
    const seen: string[] = [];
    kernel.on('restarting', () => seen.push(`restarting:${kernel.state}`));
    kernel.on('ending', () => seen.push(`ending:${kernel.state}`));
    const pid = kernel.pid;
    const restart = kernel.restart('requested');
    assert.equal(kernel.state, 'restarting');
    await restart;
    assert.equal(kernel.state, 'ready');
    assert.notEqual(kernel.pid, pid, 'a new process');
    assert.equal(kernel.location().provisioner, 'local-provisioner');
    const ended = kernels.shutdown(kernel.id);
    assert.equal(kernel.state, 'ending');
    await ended;
    assert.equal(kernel.state, 'ended');
    assert.deepEqual(seen, ['restarting:restarting', 'ending:ending']);
    await assert.rejects(kernel.restart(), /shutting down/, 'no restart once ended');
  });

  test('the heartbeat socket outlives a missed beat: a stopped kernel misses, a continued one answers again', async () => {
    const kernel = await kernels.start({ name: 'python3' });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await kernel.heartbeat(10_000), true, `beat ${i}`);
      process.kill(kernel.pid!, 'SIGSTOP');
      assert.equal(await kernel.heartbeat(300), false, 'no echo from a stopped kernel');
      assert.equal(await kernel.heartbeat(300), false, 'nor on the next beat');
      process.kill(kernel.pid!, 'SIGCONT');
      // The echoes of the missed beats may arrive first: correlation drops them.
      let answered = false;
      for (let i = 0; i < 20 && !answered; i++) answered = await kernel.heartbeat(2000);
      assert.ok(answered, 'answers again after SIGCONT');
      const [a, b] = await Promise.all([kernel.heartbeat(10_000), kernel.heartbeat(10_000)]);
      assert.ok(a && b, 'two beats at once share one');
    } finally {
      await kernels.shutdown(kernel.id, true);
    }
  });

  test('retries of a failed start share the launch timeout', async () => {
    const limited = new KernelManager({
      specs: new KernelSpecManager(() => [join(root, 'data')], () => undefined),
      defaultKernelName: 'exits-late',
      runtimeDir: join(root, 'runtime'),
      launchTimeoutMs: 3000,
      envPolicy: { processWhitelist: [] },
      log: quiet,
      heartbeatIntervalMs: 0,
    });
    const t0 = Date.now();
    await assert.rejects(limited.start({ name: 'exits-late' }));
    const elapsed = Date.now() - t0;
    console.log(`# a start that kept failing gave up after ${elapsed} ms (kernel_launch_timeout 3 s; three full attempts would take 7.5 s)`);
    // One attempt exits at 2.5 s, the retry gets the 0.5-1 s left: well under three attempts.
    assert.ok(elapsed < 6000, `gave up after ${elapsed} ms`);
    await limited.shutdownAll(true);
  });

  test("a start that needed a retry keeps the whole launch timeout for its restarts (not what the retry had left)", async () => {
    const manager = new KernelManager({
      specs: new KernelSpecManager(() => [join(root, 'data')], () => undefined),
      defaultKernelName: 'fails-once',
      runtimeDir: join(root, 'runtime'),
      launchTimeoutMs: 30_000,
      envPolicy: { processWhitelist: [] },
      log: quiet,
      heartbeatIntervalMs: 0,
    });
    try {
      // The first attempt exits at 20 s; the retry, with the 10 s left, starts.
      const kernel = await manager.start({ name: 'fails-once' });
      // 14 s and more: within kernel_launch_timeout (30 s), past the 10 s the retry had.
      await kernel.restart();
      assert.equal(kernel.state, 'ready');
    } finally {
      await manager.shutdownAll(true);
    }
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
