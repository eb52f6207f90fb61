// warm_pool through real gateway processes and real kernels: POST /api/kernels and
// POST /api/sessions are served by a kernel the pool had ready (its id was in the pool's part of
// /api/gateway/status), which executes and carries the seed; the pool refills; which request
// envs are served warm (KERNEL_WORKING_DIR alone, in the start's env flavour) and which start
// cold (another KERNEL_*); max_kernels counts pool kernels; a pool kernel killed with SIGKILL is
// replaced; pool kernels are neither listed nor culled; SIGTERM leaves no pool kernel behind.
// "Served warm" is always told by kernel ids, never by how fast an answer came.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { jupyterDirs, processesMentioning, writeNotebook } from '../server/gateway-fixtures.js';

const dirs = jupyterDirs();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  dirs.cleanup();
});

/** A gateway with its own runtime dir (so its kernel processes can be found), stopped after the file. */
async function gateway(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ gw: GatewayProcess; runtime: string }> {
  const runtime = join(dirs.root, `runtime-${name}`);
  const gw = await startGateway(['--JupyterWebsocketPersonality.list_kernels=True', ...args], { ...dirs.env, JUPYTER_RUNTIME_DIR: runtime, ...env });
  cleanups.push(() => gw.stop());
  return { gw, runtime };
}

interface PoolStatus {
  kernelspec: string;
  target: number;
  ready: { id: string; pid: number | null; flavour: string }[];
  starting: number;
  hits: number;
  misses: number;
}

async function pool(gw: GatewayProcess, kernelspec = 'python3'): Promise<PoolStatus> {
  const status = (await (await fetch(`${gw.url}/api/gateway/status`)).json()) as { warm_pool: PoolStatus[] };
  const entry = status.warm_pool.find((p) => p.kernelspec === kernelspec);
  assert.ok(entry, `the status lists the ${kernelspec} pool`);
  return entry;
}

/** Waits until the pool holds `count` ready kernels (of `flavour`, if given); returns their ids. */
async function readyIds(gw: GatewayProcess, count: number, flavour?: string, kernelspec = 'python3'): Promise<string[]> {
  let last: PoolStatus | undefined;
  const full = await waitFor(
    async () => {
      last = await pool(gw, kernelspec);
      return last.ready.length === count && last.starting === 0 && last.ready.every((k) => flavour === undefined || k.flavour === flavour);
    },
    60_000,
    100,
  );
  assert.ok(full, `the pool fills to ${count}${flavour ? ` ${flavour}` : ''}: ${JSON.stringify(last)}`);
  return last!.ready.map((k) => k.id);
}

async function startKernel(gw: GatewayProcess, body: unknown = {}): Promise<{ status: number; id: string }> {
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as { id: string };
  return { status: res.status, id: json.id };
}

/** What `code` prints in a kernel, run over its websocket. */
async function printed(gw: GatewayProcess, kernelId: string, code: string): Promise<string> {
  const client = await RawKernelClient.connect(gw.url, kernelId);
  try {
    const msgs = await client.execute(code);
    const error = msgs.find((m) => m.header.msg_type === 'error');
    if (error) throw new Error(`${String(error.content.ename)}: ${String(error.content.evalue)}`);
    return msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('').trim();
  } finally {
    client.close();
  }
}

async function listed(gw: GatewayProcess): Promise<string[]> {
  return ((await (await fetch(`${gw.url}/api/kernels`)).json()) as { id: string }[]).map((k) => k.id);
}

describe('warm pool', () => {
  test('POST /api/kernels and POST /api/sessions take a ready, seeded kernel that executes; the pool refills; hits are counted', async () => {
    const nbDir = join(dirs.root, 'nb');
    mkdirSync(nbDir, { recursive: true });
    const seed = writeNotebook(nbDir, 'seed.ipynb', 'python3', ["seeded = 'from the seed'"]);
    const { gw } = await gateway('handout', ['--KernelGatewayApp.warm_pool=python3=2', `--KernelGatewayApp.seed_uri=${seed}`]);
    const prepared = await readyIds(gw, 2);
    assert.deepEqual(await listed(gw), [], 'pool kernels are not listed before they are handed out');
    for (const id of prepared) assert.equal((await fetch(`${gw.url}/api/kernels/${id}`)).status, 404, 'nor found by id');

    const first = await startKernel(gw, { name: 'python3' });
    assert.equal(first.status, 201);
    assert.ok(prepared.includes(first.id), 'the kernel is one the pool had ready');
    assert.deepEqual(await listed(gw), [first.id], 'now it is listed');
    assert.equal(await printed(gw, first.id, 'print(seeded)'), 'from the seed', 'the seed ran in the pool kernel');

    const refilled = await readyIds(gw, 2);
    assert.ok(!refilled.includes(first.id), 'the handed-out kernel left the pool');
    const fresh = refilled.filter((id) => !prepared.includes(id));
    assert.equal(fresh.length, 1, 'one new kernel refilled the pool');

    const session = await fetch(`${gw.url}/api/sessions`, { method: 'POST', body: JSON.stringify({ path: 'a.ipynb', type: 'notebook', kernel: { name: 'python3' } }) });
    assert.equal(session.status, 201);
    const sessionKernel = ((await session.json()) as { kernel: { id: string } }).kernel.id;
    assert.ok(refilled.includes(sessionKernel), 'the session got a pool kernel too');
    assert.equal(await printed(gw, sessionKernel, 'print(seeded)'), 'from the seed');

    const after = await pool(gw);
    assert.equal(after.hits, 2);
    assert.equal(after.misses, 0);
    const metrics = parsePrometheusText(await (await fetch(`${gw.url}/metrics`)).text());
    assert.equal(sampleValue(metrics, 'kernel_gateway_warm_pool_hits_total', { kernelspec: 'python3' }), 2);
    assert.equal(sampleValue(metrics, 'kernel_gateway_warm_pool_target', { kernelspec: 'python3' }), 2);
    assert.equal(sampleValue(metrics, 'kernel_gateway_kernel_starts_total', { kernelspec: 'python3' }), 2, 'a hand-out counts as a start; pool kernels not yet handed out do not');
    const status = (await (await fetch(`${gw.url}/api/gateway/status`)).json()) as { events: { type: string; kernel_id?: string; message: string }[] };
    assert.ok(status.events.some((e) => e.type === 'start' && e.kernel_id === first.id && /warm pool/.test(e.message)), 'the start event says where the kernel came from');

    const restarted = await fetch(`${gw.url}/api/kernels/${first.id}/restart`, { method: 'POST' });
    assert.equal(restarted.status, 200, 'a handed-out kernel restarts like any other');
    assert.equal(await printed(gw, first.id, "print('seeded' in globals())"), 'False', 'a restart does not seed again, as for a cold kernel');
  });

  test('env: KERNEL_WORKING_DIR alone is served warm, in the env flavour of the request; another KERNEL_* starts cold', async () => {
    const { gw } = await gateway('env', ['--KernelGatewayApp.warm_pool=python3=2'], { POOL_TEST_GATEWAY_ONLY: 'gateway' });
    await readyIds(gw, 2);
    const first = await pool(gw);
    assert.deepEqual(first.ready.map((k) => k.flavour).sort(), ['inherited', 'restricted'], 'before any start, one kernel of each env flavour');
    const byFlavour = (f: string): string => first.ready.find((k) => k.flavour === f)!.id;

    const plain = await startKernel(gw, {});
    assert.equal(plain.id, byFlavour('inherited'), 'no env: served warm');
    assert.equal(await printed(gw, plain.id, "import os; print(os.environ.get('POOL_TEST_GATEWAY_ONLY'))"), 'gateway', 'it has the gateway env, as a cold start without env would');

    // A start with an env gets only PATH and env_process_whitelist from the gateway.
    const env = { KERNEL_WORKING_DIR: '/srv/notebooks', KERNEL_USERNAME: 'ann', KERNEL_LAUNCH_TIMEOUT: '40', NOT_WHITELISTED: 'dropped anyway' };
    const warm = await startKernel(gw, { env });
    assert.equal(warm.id, byFlavour('restricted'), 'KERNEL_WORKING_DIR, KERNEL_USERNAME, KERNEL_LAUNCH_TIMEOUT and a variable env_whitelist drops: served warm');
    assert.equal(await printed(gw, warm.id, "import os; print(os.environ.get('POOL_TEST_GATEWAY_ONLY'), os.environ['KERNEL_GATEWAY'])"), 'None 1', 'its env is that of a cold start with an env');

    await readyIds(gw, 2);
    const mixed = await pool(gw);
    assert.deepEqual(mixed.ready.map((k) => k.flavour).sort(), ['inherited', 'restricted'], 'refills follow the starts: a mixed crowd keeps a mixed pool');

    const cold = await startKernel(gw, { env: { KERNEL_WORKING_DIR: '/tmp', KERNEL_FOO: 'bar' } });
    assert.equal(cold.status, 201);
    assert.ok(!mixed.ready.some((k) => k.id === cold.id), 'KERNEL_FOO: started cold');
    assert.equal(await printed(gw, cold.id, "import os; print(os.environ['KERNEL_FOO'], os.environ.get('POOL_TEST_GATEWAY_ONLY'))"), 'bar None');

    // A second start with an env in a row (as many as the pool's size): the pool turns to it.
    const again = await startKernel(gw, { env: { KERNEL_WORKING_DIR: '/tmp' } });
    assert.equal(again.id, mixed.ready.find((k) => k.flavour === 'restricted')!.id);
    await readyIds(gw, 2, 'restricted');
    const counts = await pool(gw);
    assert.deepEqual([counts.hits, counts.misses], [3, 1]);
  });

  test('max_kernels counts pool kernels: a start the pool cannot serve takes a pool place; no refill past the limit', async () => {
    const { gw } = await gateway('limit', ['--KernelGatewayApp.warm_pool=python3=2', '--KernelGatewayApp.max_kernels=2']);
    const prepared = await readyIds(gw, 2);
    const cold = await startKernel(gw, { env: { KERNEL_FOO: 'x' } });
    assert.equal(cold.status, 201, 'at the limit, an env the pool cannot serve is not refused: a pool kernel gives way');
    assert.ok(!prepared.includes(cold.id));
    const left = (await pool(gw)).ready;
    assert.equal(left.length, 1);
    const warm = await startKernel(gw, left[0]!.flavour === 'inherited' ? {} : { env: {} });
    assert.equal(warm.status, 201, 'at the limit, a start is served from the pool');
    assert.equal(warm.id, left[0]!.id);
    const refused = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
    assert.equal(refused.status, 403, 'the limit holds: two kernels run, the pool did not refill');
    assert.equal(((await refused.json()) as { message: string }).message, 'Resource Limit');
    const empty = await pool(gw);
    assert.deepEqual([empty.ready.length, empty.starting], [0, 0]);

    assert.equal((await fetch(`${gw.url}/api/kernels/${cold.id}`, { method: 'DELETE' })).status, 204);
    const [again] = await readyIds(gw, 1);
    assert.ok(again, 'a freed place lets the pool refill, up to the limit');
  });

  test('a pool kernel killed with SIGKILL is replaced; pool kernels are never culled', async () => {
    const { gw } = await gateway('death', ['--KernelGatewayApp.warm_pool=python3=1', '--KernelGatewayApp.cull_idle_timeout=1', '--KernelGatewayApp.cull_interval=0.5']);
    const [victim] = await readyIds(gw, 1);
    const { pid } = (await pool(gw)).ready[0]!;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    let replacement: string | undefined;
    assert.ok(
      await waitFor(async () => {
        const p = await pool(gw);
        replacement = p.ready[0]?.id;
        return p.ready.length === 1 && replacement !== victim;
      }, 60_000, 100),
      'a new kernel takes the place of the dead one',
    );
    assert.ok(await waitFor(() => !processAlive(pid), 10_000), 'the dead one is gone');
    assert.deepEqual(await listed(gw), [], 'the dead one never appeared as a kernel');

    // Idle for several cull intervals past cull_idle_timeout: still there.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual((await pool(gw)).ready.map((k) => k.id), [replacement], 'pool kernels are not culled');
    const served = await startKernel(gw, {});
    assert.equal(served.id, replacement);
    assert.equal(await printed(gw, served.id, 'print(6 * 7)'), '42', 'the replacement works; handed out, it counts as new to the culler');
  });

  test('SIGTERM leaves no pool kernel behind, ready or still starting', async () => {
    const { gw, runtime } = await gateway('sigterm', ['--KernelGatewayApp.warm_pool=python3=2,xpython=1']);
    await readyIds(gw, 2);
    await readyIds(gw, 1, undefined, 'xpython');
    const taken = await startKernel(gw, {});
    assert.equal(taken.status, 201);
    // The refill has begun (or is about to): the gateway is stopped now, with it under way.
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.ok(await waitFor(() => processesMentioning(runtime).length === 0, 10_000), `no kernel outlives the gateway: ${processesMentioning(runtime).join(', ')}`);
  });
});
