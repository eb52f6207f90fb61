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

test('four requests that each sleep 1 s finish together in about 1 s, on four kernels', async () => {
  const t0 = performance.now();
  const results = await Promise.all([1, 2, 3, 4].map(() => get('/sleep/1')));
  const ms = performance.now() - t0;
  console.log(`# 4 x sleep(1) on a pool of 4: ${ms.toFixed(0)} ms`);
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(new Set(results.map((r) => r.body)).size, 4, 'each ran on its own kernel');
  // One after another they would take 4 s; together about 1 s (loaded CI machines add delay).
  assert.ok(ms < 3500, `took ${ms.toFixed(0)} ms: the four did not run at once`);
});

test('eight such requests queue fairly: never two at once on a kernel, two rounds on each', async () => {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: 8 }, () => get('/sleep/0.5')));
  const ms = performance.now() - t0;
  assert.ok(results.every((r) => r.status === 200));
  const perKernel = new Map<string, number>();
  for (const r of results) perKernel.set(r.body, (perKernel.get(r.body) ?? 0) + 1);
  assert.deepEqual([...perKernel.values()], [2, 2, 2, 2]);
  assert.ok(ms >= 950, `8 x 0.5 s on 4 kernels cannot take less than 1 s (took ${ms.toFixed(0)} ms)`);
  // Serialised they would take 4 s; in two rounds on four kernels about 1 s.
  assert.ok(ms < 3500, `took ${ms.toFixed(0)} ms: the requests did not spread over the pool`);
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
  assert.deepEqual(Object.keys(spec.paths), ['/sleep/{seconds}', '/pid']);
});
