// A websocket client that reads slowly keeps its connection for as long as it keeps reading,
// although its pings wait behind megabytes of output; a client on the same kernel that reads
// nothing is dropped by the keepalive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, waitFor } from '../helpers/gateway-process.js';
import { frame, rawConnect, upgradeRequest } from '../helpers/raw-socket.js';

const PING_SECS = 2;
const OUTPUT_MB = 30;

test('a slow but reading client is not cut off; a mute one is', async () => {
  const gw = await startGateway([`--KernelGatewayApp.ws_ping_interval=${PING_SECS}`]);
  try {
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
    const { id } = (await res.json()) as { id: string };
    const connect = async () => {
      const c = await rawConnect(gw.port);
      c.write(upgradeRequest(`/api/kernels/${id}/channels`));
      await c.until((t) => t.includes('\r\n\r\n'));
      return c;
    };
    const slow = await connect();
    const mute = await connect();
    mute.socket.pause();

    // The slow reader takes one chunk, then waits 40 ms: roughly 3 MB/s.
    let bytes = 0;
    slow.socket.removeAllListeners('data');
    slow.socket.on('data', (d: Buffer) => {
      bytes += d.length;
      slow.socket.pause();
      setTimeout(() => slow.socket.resume(), 20);
    });
    const code = `import sys\nfor i in range(${OUTPUT_MB * 4}):\n    sys.stdout.write("x" * 262144)\n    sys.stdout.flush()\nprint("done")`;
    const request = { channel: 'shell', header: { msg_id: 'slow-1', msg_type: 'execute_request', session: 's', username: 'u', version: '5.3' }, parent_header: {}, metadata: {}, content: { code, silent: false } };
    slow.write(frame({ opcode: 0x1, payload: JSON.stringify(request) }));

    const t0 = Date.now();
    const connections = async (): Promise<number> => ((await (await fetch(`${gw.url}/api/kernels/${id}`)).json()) as { connections: number }).connections;
    assert.ok(await waitFor(async () => (await connections()) <= 1, 30_000, 200), 'the mute client is dropped');
    assert.ok(await waitFor(() => bytes >= OUTPUT_MB * 1024 * 1024 || slow.isClosed(), 120_000, 200));
    const seconds = (Date.now() - t0) / 1000;
    console.log(`# slow reader took ${(bytes / 1048576).toFixed(1)} MB over ${seconds.toFixed(1)} s (${Math.round(seconds / PING_SECS)} ping intervals) without being cut off`);
    assert.equal(slow.isClosed(), false, `the slow reader kept its connection:\n${gw.logs().slice(-3000)}`);
    assert.ok(seconds > PING_SECS * 3, 'the test read slowly enough to outlast several ping intervals');
    slow.reset();
    mute.reset();
  } finally {
    await gw.stop();
  }
});
