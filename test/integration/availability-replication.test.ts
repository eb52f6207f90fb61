// availability_mode replication: two gateways on two ports share one kernel store. A kernel
// started through A runs code through B (B attaches it from the store); sessions made on one are
// seen on the other; a shutdown through B is seen by A (404, its websockets closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { processesMentioning, scratchDir, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

const store = scratchDir('kg-store-');
const runtimeDir = scratchDir('kg-repl-rt-');

function gateway(): Promise<GatewayProcess> {
  return startGateway(['--KernelGatewayApp.availability_mode=replication', `--KernelGatewayApp.persistence_root=${store}`, '--JupyterWebsocketPersonality.list_kernels=True'], { JUPYTER_RUNTIME_DIR: runtimeDir });
}

async function result(client: RawKernelClient, code: string): Promise<string | undefined> {
  const msgs = await client.execute(code);
  const r = msgs.find((m) => m.header.msg_type === 'execute_result');
  return (r?.content.data as Record<string, string> | undefined)?.['text/plain'];
}

test('replication: a kernel started on A runs through B; sessions are shared; shut down through B, A answers 404', { timeout: 180_000 }, async (t) => {
  const a = await gateway();
  const b = await gateway();
  t.after(async () => {
    await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')]);
    for (const pid of processesMentioning(runtimeDir)) process.kill(pid, 'SIGKILL');
  });

  const res = await fetch(`${a.url}/api/kernels`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 201);
  const id = ((await res.json()) as { id: string }).id;

  // B has never seen it: the store has it.
  const onB = await fetch(`${b.url}/api/kernels/${id}`);
  assert.equal(onB.status, 200, await onB.clone().text());
  assert.equal(((await onB.json()) as { id: string }).id, id);
  const viaB = await RawKernelClient.connect(b.url, id);
  await viaB.execute('x = 41');
  const viaA = await RawKernelClient.connect(a.url, id);
  assert.equal(await result(viaA, 'x + 1'), '42', 'one kernel behind both gateways');
  assert.equal(await result(viaB, 'x + 1'), '42');

  // A kernel started on B is listed on A; a session made on A is seen on B.
  const res2 = await fetch(`${b.url}/api/kernels`, { method: 'POST', body: '{}' });
  assert.equal(res2.status, 201);
  const id2 = ((await res2.json()) as { id: string }).id;
  const onA = ((await (await fetch(`${a.url}/api/kernels`)).json()) as { id: string }[]).map((k) => k.id).sort();
  assert.deepEqual(onA, [id, id2].sort());
  const created = await fetch(`${a.url}/api/sessions`, { method: 'POST', body: JSON.stringify({ path: 'n.ipynb', type: 'notebook', kernel: { id } }) });
  assert.equal(created.status, 201);
  const session = (await created.json()) as { id: string };
  const seen = await fetch(`${b.url}/api/sessions/${session.id}`);
  assert.equal(seen.status, 200);
  assert.equal(((await seen.json()) as { kernel: { id: string } }).kernel.id, id);

  // Shut down through B: A answers 404 next, its websocket closes, the session goes too.
  const closedOnA = new Promise<number>((resolve) => viaA.ws.once('close', (code) => resolve(code)));
  assert.equal((await fetch(`${b.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(`${a.url}/api/kernels/${id}`)).status, 404);
  assert.equal((await fetch(`${a.url}/api/sessions/${session.id}`)).status, 404);
  await closedOnA;
  assert.ok(!readdirSync(join(store, 'kernels')).includes(`${id}.json`));
  assert.ok(!readdirSync(join(store, 'sessions')).includes(`${session.id}.json`));

  // Without a request, A lets go of a kernel shut down elsewhere within its sync interval.
  const watched = await RawKernelClient.connect(a.url, id2);
  const closed2 = new Promise<number>((resolve) => watched.ws.once('close', (code) => resolve(code)));
  assert.equal((await fetch(`${b.url}/api/kernels/${id2}`, { method: 'DELETE' })).status, 204);
  await closed2;
  assert.ok(await waitFor(() => processesMentioning(runtimeDir).length === 0, 15_000), 'no kernel process is left');
  viaB.close();
});
