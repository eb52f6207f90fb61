// availability_mode with notebook-http: the pool's kernels outlive a gateway restart with their
// state when the seed notebook is the same; after a change of notebook the old kernels end and
// new ones are seeded, so that an endpoint never runs in a kernel seeded with other code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kernelPids, processAlive, processesMentioning, scratchDir, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { tempDir, writeNotebook } from './notebook-http-fixtures.js';

const store = scratchDir('kg-store-');
const runtimeDir = scratchDir('kg-nbh-rt-');
const dir = tempDir('kg-avail-nb');
const counter = (seed: number): string => writeNotebook(dir, `counter-${seed}.ipynb`, [`n = ${seed}`, '# GET /count\nn += 1\nprint(n)']);

function gateway(notebook: string): Promise<GatewayProcess> {
  return startGateway(['--KernelGatewayApp.api=kernel_gateway.notebook_http', `--KernelGatewayApp.seed_uri=${notebook}`, '--KernelGatewayApp.availability_mode=standalone', `--KernelGatewayApp.persistence_root=${store}`], { JUPYTER_RUNTIME_DIR: runtimeDir });
}

const count = async (gw: GatewayProcess): Promise<string> => (await (await fetch(`${gw.url}/count`)).text()).trim();
const recordIds = (): string[] => readdirSync(join(store, 'kernels')).map((n) => n.replace(/\.json$/, ''));

test('notebook-http: the pool kernel keeps its state across a restart; a new seed notebook replaces it', { timeout: 180_000 }, async (t) => {
  const first = counter(0);
  let gw = await gateway(first);
  t.after(async () => {
    await gw.stop('SIGKILL');
    for (const pid of processesMentioning(runtimeDir)) process.kill(pid, 'SIGKILL');
  });
  assert.equal(await count(gw), '1');
  assert.equal(await count(gw), '2');
  const [id] = recordIds();
  assert.ok(id);
  const pids = await kernelPids(id);
  assert.equal(await gw.stop('SIGTERM'), 0);

  gw = await gateway(first);
  assert.equal(await count(gw), '3', 'the same kernel, its state intact');
  assert.deepEqual(await kernelPids(id), pids);
  assert.equal(await gw.stop('SIGTERM'), 0);

  // Another notebook: the kernel seeded with the first one must not serve it.
  gw = await gateway(counter(100));
  assert.equal(await count(gw), '101');
  assert.ok(await waitFor(() => pids.every((p) => !processAlive(p)), 15_000), 'the kernel of the old notebook is ended');
  assert.ok(!recordIds().includes(id), 'and its record removed');
  assert.equal(recordIds().length, 1);
  assert.equal(await gw.stop('SIGTERM'), 0);
});
