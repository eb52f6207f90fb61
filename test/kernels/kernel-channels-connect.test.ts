// What readiness waits for, without a kernel: KernelChannels.whenConnected follows the stdin
// DEALER's connection (its socket monitor's handshake and disconnect events). It answers false
// while nothing listens on the stdin port, true once a ROUTER binds there, false again after
// that ROUTER goes away (a kernel restarting on the same ports), and true once a new one binds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';
import { KernelChannels } from '../../src/kernels/kernel-channels.js';
import type { ConnectionInfo } from '../../src/kernels/connection-file.js';
import type { Logger } from '../../src/kernels/logger.js';

const zmq = createRequire(import.meta.url)('zeromq') as typeof Zmq;
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("whenConnected follows stdin's connection: false before the kernel binds, true after, false once it is gone, true again on a rebind", { timeout: 60_000 }, async () => {
  const stdinPort = await freePort();
  const elsewhere = await freePort(); // nothing listens: shell, control, iopub and hb retry on their own
  const info: ConnectionInfo = { transport: 'tcp', ip: '127.0.0.1', shell_port: elsewhere, iopub_port: elsewhere, stdin_port: stdinPort, control_port: elsewhere, hb_port: elsewhere, key: 'k', signature_scheme: 'hmac-sha256', kernel_name: 'none' };
  const channels = new KernelChannels(info, quiet);
  let router: Zmq.Router | undefined;
  try {
    assert.equal(await channels.whenConnected(300), false, 'nothing listens on stdin yet');

    router = new zmq.Router({ linger: 0 });
    await router.bind(`tcp://127.0.0.1:${stdinPort}`);
    assert.equal(await channels.whenConnected(10_000), true, 'stdin connects once a ROUTER binds its port');

    router.close();
    router = undefined;
    await eventually('whenConnected answers false once the stdin peer is gone', async () => !(await channels.whenConnected(50)));

    router = new zmq.Router({ linger: 0 });
    await router.bind(`tcp://127.0.0.1:${stdinPort}`);
    assert.equal(await channels.whenConnected(10_000), true, 'stdin reconnects to the new ROUTER on the same port');
  } finally {
    channels.close();
    router?.close();
  }
});
