// A large websocket message costs the gateway about one copy of itself, not several: it is
// checked and split in place (json-spans.ts), never parsed into strings and objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { startGateway } from '../helpers/gateway-process.js';

const peakRssMb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('a 9 MB message raises the gateway peak memory by well under four copies of it', async () => {
  const gw = await startGateway([]);
  try {
    const { id } = (await (await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' })).json()) as { id: string };
    const client = await RawKernelClient.connect(gw.url, id);
    try {
      await client.execute('1');
      const before = peakRssMb(gw.proc.pid!);
      const sizeMb = 9;
      const msgId = client.request('execute_request', { code: `x = 1 #${'a'.repeat(sizeMb * 1024 * 1024)}`, silent: true, store_history: false, user_expressions: {}, allow_stdin: false });
      await client.waitFor((m) => m.parent_header.msg_id === msgId && m.header.msg_type === 'execute_reply', 60_000);
      const grew = peakRssMb(gw.proc.pid!) - before;
      console.log(`# a ${sizeMb} MB websocket message raised the gateway's peak RSS by ${grew.toFixed(1)} MB`);
      assert.ok(grew < sizeMb * 4, `peak RSS grew by ${grew.toFixed(1)} MB`);
      assert.equal((await client.execute('print(x)')).find((m) => m.header.msg_type === 'stream')?.content.text, '1\n');
    } finally {
      client.close();
    }
  } finally {
    await gw.stop();
  }
});
