// The gateway in process: close() with a kernel, a mute websocket client and an idle keep-alive
// connection resolves within the bound and leaves no timer, socket or child of ours behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startGateway } from '../../src/server/gateway.js';
import { defaultConfig } from '../../src/cli/options.js';
import { rawConnect, upgradeRequest } from '../helpers/raw-socket.js';

const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;

test('close() ends kernels and clients and keeps no timer alive', async () => {
  const config = defaultConfig();
  config.KernelGatewayApp.port = 0;
  config.KernelGatewayApp.ws_ping_interval = 1;
  const timersBefore = count('Timeout');
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }), env: { ...process.env, JUPYTER_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'kg-close-')) } });
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
  const { id } = (await res.json()) as { id: string };
  const mute = await rawConnect(gw.port);
  mute.write(upgradeRequest(`/api/kernels/${id}/channels`));
  await mute.until((t) => t.includes('\r\n\r\n'));
  mute.socket.pause();
  const idle = await rawConnect(gw.port);
  idle.write('GET /api HTTP/1.1\r\nHost: x\r\n\r\n');
  await idle.until((t) => t.includes('\r\n\r\n'));
  const pid = gw.kernels.get(id)!.pid!;

  const t0 = Date.now();
  await gw.close();
  const elapsed = Date.now() - t0;
  console.log(`# in-process close() with a mute websocket and a kernel: ${elapsed} ms`);
  assert.ok(elapsed < 6000, `close took ${elapsed} ms`);
  assert.throws(() => process.kill(pid, 0), 'the kernel process is gone');
  mute.reset();
  idle.reset();
  // Handles being closed finish closing on the next turns of the loop.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(count('Timeout') <= timersBefore, `timers: ${count('Timeout')} after, ${timersBefore} before: ${process.getActiveResourcesInfo().join(', ')}`);
  assert.equal(count('TCPServerWrap'), 0, 'the listener is closed');
  assert.equal(count('TCPSocketWrap'), 0, `no socket is left: ${process.getActiveResourcesInfo().join(', ')}`);
});
