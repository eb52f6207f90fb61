// The notebook-http kernel pool with real kernels (prespawn_count=4): concurrent requests run in
// parallel, a kernel never runs two requests at once, sequential requests rotate through the
// pool; the features that are off by default stay off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { tempDir, writeNotebook } from './notebook-http-fixtures.js';

let gw: GatewayProcess;
let dir: string;

before(async () => {
  dir = tempDir('kg-nbhttp-pool');
  const nb = writeNotebook(dir, 'pool_api.ipynb', [
    'import json, os, time',
    "# GET /sleep/:seconds\ntime.sleep(float(json.loads(REQUEST)['path']['seconds']))\nprint(os.getpid(), end='')",
    "# GET /pid\nprint(os.getpid(), end='')",
    "# GET /span/:seconds\nt0 = time.time()\ntime.sleep(float(json.loads(REQUEST)['path']['seconds']))\nprint(os.getpid(), t0, time.time(), end='')",
  ]);
  gw = await startGateway(['--KernelGatewayApp.api=kernel_gateway.notebook_http', `--KernelGatewayApp.seed_uri=${nb}`, '--KernelGatewayApp.prespawn_count=4']);
});

after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(gw.url + path);
  return { status: res.status, body: await res.text() };
};

/** What a /span request ran on and when (the kernel's own clock, so machine load cannot fake it). */
const span = async (seconds: number): Promise<{ pid: string; start: number; end: number }> => {
  const r = await get(`/span/${seconds}`);
  assert.equal(r.status, 200);
  const [pid, start, end] = r.body.split(' ');
  return { pid: pid!, start: Number(start), end: Number(end) };
};

test('four requests that each sleep 1 s run at the same time, on four kernels', async () => {
  const t0 = performance.now();
  const spans = await Promise.all([1, 2, 3, 4].map(() => span(1)));
  console.log(`# 4 x sleep(1) on a pool of 4: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(new Set(spans.map((s) => s.pid)).size, 4, 'each ran on its own kernel');
  const lastStart = Math.max(...spans.map((s) => s.start));
  const firstEnd = Math.min(...spans.map((s) => s.end));
  assert.ok(lastStart < firstEnd, 'all four were running at one moment');
});

test('eight such requests queue: every kernel serves, never two at once on a kernel', async () => {
  const spans = await Promise.all(Array.from({ length: 8 }, () => span(0.5)));
  const perKernel = new Map<string, { start: number; end: number }[]>();
  for (const s of spans) perKernel.set(s.pid, [...(perKernel.get(s.pid) ?? []), s]);
  // How many each serves depends on which finishes first (a loaded machine decides that).
  assert.equal(perKernel.size, 4, 'every kernel of the pool served');
  for (const [pid, runs] of perKernel) {
    const sorted = [...runs].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i - 1]!.end <= sorted[i]!.start, `kernel ${pid} never ran two requests at once`);
  }
});

test('sequential requests rotate through the pool', async () => {
  const pids: string[] = [];
  for (let i = 0; i < 8; i++) pids.push((await get('/pid')).body);
  assert.equal(new Set(pids).size, 4);
  assert.deepEqual(pids.slice(4), pids.slice(0, 4));
});

test('without the options, /_api/source and /public are 404; swagger.json is titled after the notebook', async () => {
  assert.equal((await get('/_api/source')).status, 404);
  assert.equal((await get('/public')).status, 404);
  assert.equal((await get('/public/index.html')).status, 404);
  const spec = JSON.parse((await get('/_api/spec/swagger.json')).body);
  assert.equal(spec.info.title, 'pool_api');
  assert.deepEqual(Object.keys(spec.paths), ['/sleep/{seconds}', '/pid', '/span/{seconds}']);
});
