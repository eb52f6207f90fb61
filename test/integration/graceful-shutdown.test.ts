// SIGTERM with clients that read nothing and never answer the close handshake: websockets are
// closed with 1001 and cut after about a second, every kernel is ended, and the process exits
// within the bound an orchestrator's grace period allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesMentioning, startGateway, waitFor } from '../helpers/gateway-process.js';
import { rawConnect, upgradeRequest, type RawClient } from '../helpers/raw-socket.js';

test('SIGTERM with mute websocket clients exits within 6 s and ends every kernel', async () => {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'kg-sigterm-'));
  const gw = await startGateway([], { JUPYTER_RUNTIME_DIR: runtimeDir });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  assert.equal(processesMentioning(runtimeDir).length, 2);
  // Clients that complete the handshake, then read nothing and never close.
  const mute: RawClient[] = [];
  for (const id of ids) {
    for (let i = 0; i < 3; i++) {
      const c = await rawConnect(gw.port);
      c.write(upgradeRequest(`/api/kernels/${id}/channels`));
      await c.until((t) => t.includes('\r\n\r\n'));
      c.socket.pause();
      mute.push(c);
    }
  }
  // And one whose TCP connection is open but idle mid-request, and a half-open refused one.
  const idle = await rawConnect(gw.port);
  idle.write('GET /api HTTP/1.1\r\nHost: x\r\n');
  const refused = await rawConnect(gw.port);
  refused.socket.pause();
  refused.write(upgradeRequest('/api/kernels/nope/channels'));

  const t0 = Date.now();
  const code = await gw.stop('SIGTERM');
  const elapsed = Date.now() - t0;
  console.log(`# SIGTERM with ${mute.length} mute websocket clients and 2 kernels: exited (${code}) after ${elapsed} ms`);
  assert.equal(code, 0);
  assert.ok(elapsed < 6000, `exited after ${elapsed} ms`);
  assert.ok(await waitFor(() => processesMentioning(runtimeDir).length === 0, 5000), 'no kernel outlives the gateway');
  for (const c of [...mute, idle, refused]) c.reset();
});
