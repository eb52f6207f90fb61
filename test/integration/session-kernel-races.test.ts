// Concurrent kernel changes of one session through a real gateway and real ipykernel kernels:
// however PATCHes and DELETEs interleave, no kernel is left running without a session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';

let gw: GatewayProcess;
const api = (path: string, init?: RequestInit): Promise<Response> => fetch(gw.url + path, init);
const send = (method: string, path: string, body?: unknown): Promise<Response> =>
  api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'Content-Type': 'application/json' } });
const kernelIds = async (): Promise<string[]> => ((await (await api('/api/kernels')).json()) as { id: string }[]).map((k) => k.id);

async function allGone(ids: string[]): Promise<boolean> {
  for (const id of ids) if ((await kernelPids(id)).some(processAlive)) return false;
  return true;
}

/** Kernel processes the gateway has spawned, those still starting included. */
function kernelChildren(): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = /^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (Number(ppid) === gw.proc.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kernel-')) n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

before(async () => {
  gw = await startGateway(['--JupyterWebsocketPersonality.list_kernels=True']);
});
after(async () => {
  await gw.stop();
});

test('two concurrent PATCHes that both start a kernel leave exactly the session\'s kernel', async () => {
  const created = await send('POST', '/api/sessions', { path: 'race.ipynb', type: 'notebook', kernel: { name: 'python3' } });
  assert.equal(created.status, 201);
  const session = (await created.json()) as { id: string; kernel: { id: string } };
  const original = session.kernel.id;
  const [a, b] = await Promise.all([
    send('PATCH', `/api/sessions/${session.id}`, { kernel: { name: 'python3' } }),
    send('PATCH', `/api/sessions/${session.id}`, { kernel: { name: 'python3' } }),
  ]);
  assert.equal(a.status, 200, await a.clone().text());
  assert.equal(b.status, 200, await b.clone().text());
  const now = ((await (await api(`/api/sessions/${session.id}`)).json()) as { kernel: { id: string } }).kernel.id;
  assert.deepEqual(await kernelIds(), [now], 'exactly one kernel remains, the session\'s');
  const started = [((await a.json()) as { kernel: { id: string } }).kernel.id, ((await b.json()) as { kernel: { id: string } }).kernel.id];
  assert.notEqual(started[0], started[1], 'each PATCH answers the kernel it started');
  assert.ok(started.includes(now) && !started.includes(original), 'the session has the kernel the later PATCH started');
  const others = [original, ...started].filter((id) => id !== now);
  assert.ok(await waitFor(() => allGone(others)), 'the other kernels\' processes ended');
  assert.equal((await send('DELETE', `/api/sessions/${session.id}`)).status, 204);
  assert.deepEqual(await kernelIds(), []);
});

test('a kernel started for a session deleted meanwhile is shut down', async () => {
  const earlier = new Set(await kernelIds());
  const children = kernelChildren();
  const session = (await (await send('POST', '/api/sessions', { path: 'gone.ipynb', type: 'notebook', kernel: { name: 'python3' } })).json()) as { id: string; kernel: { id: string } };
  const patching = send('PATCH', `/api/sessions/${session.id}`, { kernel: { name: 'python3' } });
  // The DELETE lands while the PATCH's kernel is starting (an ipykernel takes about a second).
  assert.ok(await waitFor(() => kernelChildren() >= children + 2, 10_000, 10), 'the PATCH began launching a kernel');
  const deleted = await send('DELETE', `/api/sessions/${session.id}`);
  assert.equal(deleted.status, 204);
  const patched = await patching;
  assert.equal(patched.status, 404, await patched.clone().text());
  assert.match(((await patched.json()) as { message: string }).message, /Session not found/);
  const left = async (): Promise<string[]> => (await kernelIds()).filter((id) => !earlier.has(id));
  assert.ok(await waitFor(async () => (await left()).length === 0), `no kernel of this session left: ${JSON.stringify(await left())}`);
  assert.equal((await api(`/api/sessions/${session.id}`)).status, 404);
});
