// Readiness waits for the stdin channel's connection (the only one of the kernel's sockets that is
// monitored): the kernel's stdin ROUTER drops an input_request for a peer not yet connected, so a
// cell calling input() right after a start, and right after a restart on the same ports (where
// the DEALERs reconnect on their own), must still get its input_request through. End to end,
// this fails only when stdin happens to connect last (libzmq's reconnects are jittered); the
// exact check of what readiness waits for is kernel-channels-connect.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelManager } from '../../src/kernels/kernel-manager.js';
import { KernelSpecManager } from '../../src/kernels/kernelspecs.js';
import { jupyterDataPath } from '../../src/kernels/jupyter-paths.js';
import type { RunningKernel } from '../../src/kernels/running-kernel.js';
import type { Logger } from '../../src/kernels/logger.js';
import { RawMessage } from '../../src/protocol/wire.js';
import { makeMessage, type Channel } from '../../src/protocol/message.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let root: string;
let kernels: KernelManager;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'kg-stdin-'));
  mkdirSync(join(root, 'runtime'));
  const specs = new KernelSpecManager(() => jupyterDataPath(), () => undefined);
  kernels = new KernelManager({ specs, defaultKernelName: 'python3', runtimeDir: join(root, 'runtime'), launchTimeoutMs: 60_000, envPolicy: { processWhitelist: [] }, log: quiet, heartbeatIntervalMs: 0 });
});

after(async () => {
  await kernels.shutdownAll(true);
  rmSync(root, { recursive: true, force: true });
});

/** Runs `input()` and answers the kernel's input_request; resolves with what the cell printed. */
function inputRoundTrip(kernel: RunningKernel, answer: string): Promise<string> {
  const msg = makeMessage('execute_request', { code: 'print("got", input("?"))', silent: false, store_history: false, user_expressions: {}, allow_stdin: true, stop_on_error: true }, 'stdin-test');
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      kernel.off('message', onMessage);
      reject(new Error('no output from the input() cell within 30 s: its input_request was lost'));
    }, 30_000);
    const onMessage = (channel: Channel, m: RawMessage): void => {
      if (m.parentMsgId !== msg.header.msg_id) return;
      if (channel === 'stdin' && m.msgType === 'input_request') {
        const reply = makeMessage('input_reply', { value: answer }, 'stdin-test');
        reply.parent_header = m.headerJson;
        void kernel.send('stdin', RawMessage.fromMessage(reply));
      }
      if (channel === 'iopub' && m.msgType === 'stream') {
        clearTimeout(timer);
        kernel.off('message', onMessage);
        resolve(String(m.contentJson().text));
      }
    };
    kernel.on('message', onMessage);
    kernel.send('shell', RawMessage.fromMessage(msg)).catch(reject);
  });
}

test('input() works at once after a start and after each of three restarts', { timeout: 300_000 }, async () => {
  const kernel = await kernels.start({ name: 'python3' });
  assert.equal(await inputRoundTrip(kernel, 'start'), 'got start\n');
  for (let i = 1; i <= 3; i++) {
    await kernel.restart();
    assert.equal(await inputRoundTrip(kernel, `restart ${i}`), `got restart ${i}\n`, `after restart ${i}`);
  }
  await kernels.shutdown(kernel.id);
});
