// availability_mode standalone with local kernels: a gateway stopped by SIGTERM or killed by
// SIGKILL leaves its kernels running, and the next gateway on the same store serves them again
// under the same ids, with the same processes and their state; a kernel that died while no
// gateway ran is dropped at start-up with nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { kernelPids, launchGatewayProcess, processAlive, processesMentioning, scratchDir, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

const store = scratchDir('kg-store-');
const runtimeDir = scratchDir('kg-avail-rt-');

function gateway(root = store, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
  return startGateway(['--KernelGatewayApp.availability_mode=standalone', `--KernelGatewayApp.persistence_root=${root}`, '--JupyterWebsocketPersonality.list_kernels=True', ...extra], { JUPYTER_RUNTIME_DIR: runtimeDir, ...env });
}

async function listed(gw: GatewayProcess): Promise<string[]> {
  const res = await fetch(`${gw.url}/api/kernels`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }[]).map((k) => k.id).sort();
}

const records = (root = store, kind = 'kernels'): string[] => readdirSync(join(root, kind)).sort();

async function startKernel(gw: GatewayProcess): Promise<string> {
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

test('standalone: kernels survive SIGTERM and SIGKILL of the gateway and are re-adopted with their state', { timeout: 240_000 }, async (t) => {
  let gw = await gateway();
  t.after(async () => {
    await gw.stop('SIGKILL');
    for (const pid of processesMentioning(runtimeDir)) process.kill(pid, 'SIGKILL');
  });

  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  ids.sort();
  const pids = new Map<string, number[]>();
  for (const id of ids) pids.set(id, (await kernelPids(id)).sort());

  // The store: a 0700 directory of 0600 records, one per kernel.
  assert.deepEqual(records(), ids.map((id) => `${id}.json`));
  assert.equal(statSync(join(store, 'kernels')).mode & 0o777, 0o700);
  for (const name of records()) assert.equal(statSync(join(store, 'kernels', name)).mode & 0o777, 0o600);

  const target = ids[0]!;
  // The client reconnects with the same session_id after each restart, as JupyterLab does.
  const sessionQuery = `?session_id=${randomUUID()}`;
  let client = await RawKernelClient.connect(gw.url, target, sessionQuery);
  const first = await client.run('x = 41');
  client.close();

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const code = await gw.stop(signal);
    if (signal === 'SIGTERM') assert.equal(code, 0, gw.logs());
    for (const id of ids) for (const pid of pids.get(id)!) assert.ok(processAlive(pid), `kernel ${id} (pid ${pid}) outlived the gateway's ${signal}`);
    assert.deepEqual(records(), ids.map((id) => `${id}.json`), 'the records stay');

    gw = await gateway();
    assert.match(gw.logs(), /re-adopted 3 kernel\(s\)/, gw.logs());
    assert.deepEqual(await listed(gw), ids);
    for (const id of ids) assert.deepEqual((await kernelPids(id)).sort(), pids.get(id), `kernel ${id} is the same process`);
    const model = (await (await fetch(`${gw.url}/api/kernels/${target}`)).json()) as { id: string };
    assert.equal(model.id, target);

    client = await RawKernelClient.connect(gw.url, target, sessionQuery);
    const next = await client.run('x + 1');
    assert.equal(next.result, '42', `after ${signal}`);
    assert.ok(next.count > first.count, `execution_count goes on (${first.count} then ${next.count})`);
    client.close();
  }

  // A kernel that dies while no gateway runs is dropped at the next start, with its record and
  // connection file.
  assert.equal(await gw.stop('SIGTERM'), 0);
  const victim = ids[1]!;
  for (const pid of pids.get(victim)!) process.kill(pid, 'SIGKILL');
  assert.ok(await waitFor(() => pids.get(victim)!.every((p) => !processAlive(p)), 10_000));
  gw = await gateway();
  assert.match(gw.logs(), /re-adopted 2 kernel\(s\).*dropped 1/, gw.logs());
  const left = ids.filter((id) => id !== victim);
  assert.deepEqual(await listed(gw), left);
  assert.deepEqual(records(), left.map((id) => `${id}.json`));
  assert.ok(!existsSync(join(runtimeDir, `kernel-${victim}.json`)), 'its connection file is removed');

  // Shutdown through the API still ends a kernel and its record.
  for (const id of left) assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
  assert.deepEqual(records(), []);
  assert.ok(await waitFor(() => processesMentioning(runtimeDir).length === 0, 10_000), 'no kernel process is left');
});

test('standalone: sessions persist with their kernels; unreadable or foreign records are skipped; a kernel whose key does not match is dropped', { timeout: 180_000 }, async (t) => {
  const root = scratchDir('kg-store-');
  let gw = await gateway(root);
  t.after(async () => {
    await gw.stop('SIGKILL');
  });
  const created = await fetch(`${gw.url}/api/sessions`, { method: 'POST', body: JSON.stringify({ path: 'a.ipynb', type: 'notebook', name: 'a', kernel: { name: 'python3' } }) });
  assert.equal(created.status, 201);
  const session = (await created.json()) as { id: string; kernel: { id: string } };
  const other = await startKernel(gw);
  assert.deepEqual(records(root, 'sessions'), [`${session.id}.json`]);
  assert.equal(statSync(join(root, 'sessions', `${session.id}.json`)).mode & 0o777, 0o600);
  assert.equal(await gw.stop('SIGTERM'), 0);

  // Damaged and foreign files beside the real records.
  const junk: Record<string, string> = {
    'not-json.json': '{"version": 1, "id": "not-json", "kern',
    'empty.json': '',
    'foreign.json': JSON.stringify({ hello: 'world' }),
    'wrong-id.json': readFileSync(join(root, 'kernels', `${other}.json`), 'utf8'),
    'future.json': JSON.stringify({ version: 99, id: 'future' }),
    'bad name!.json': '{}',
  };
  for (const [name, text] of Object.entries(junk)) writeFileSync(join(root, 'kernels', name), text, { mode: 0o600 });
  writeFileSync(join(root, 'sessions', 'garbage.json'), '[1, 2', { mode: 0o600 });
  // The second kernel's key no longer matches the one its process holds.
  const otherPids = await kernelPids(other);
  const record = JSON.parse(readFileSync(join(root, 'kernels', `${other}.json`), 'utf8')) as { connectionInfo: { key: string } };
  record.connectionInfo.key = 'f'.repeat(64);
  writeFileSync(join(root, 'kernels', `${other}.json`), JSON.stringify(record), { mode: 0o600 });

  gw = await gateway(root);
  const logs = gw.logs();
  assert.match(logs, /re-adopted 1 kernel\(s\)/, logs);
  assert.match(logs, /skipped 6 unreadable record/, logs);
  for (const name of Object.keys(junk)) assert.ok(logs.includes(`skipping the record ${name.slice(0, -5)}`), `a warning names ${name}:\n${logs}`);
  assert.match(logs, new RegExp(`Kernel ${other} .*dropped: it does not answer`), logs);
  assert.deepEqual(await listed(gw), [session.kernel.id]);
  assert.ok(await waitFor(() => otherPids.every((p) => !processAlive(p)), 15_000), 'the kernel whose key does not match is ended');
  assert.ok(!records(root).includes(`${other}.json`), 'and its record removed');

  // The session is served again, with its kernel; then its deletion removes both records.
  const again = await fetch(`${gw.url}/api/sessions/${session.id}`);
  assert.equal(again.status, 200);
  assert.equal(((await again.json()) as { kernel: { id: string } }).kernel.id, session.kernel.id);
  const listedSessions = (await (await fetch(`${gw.url}/api/sessions`)).json()) as { id: string }[];
  assert.deepEqual(listedSessions.map((s) => s.id), [session.id]);
  assert.equal((await fetch(`${gw.url}/api/sessions/${session.id}`, { method: 'DELETE' })).status, 204);
  assert.ok(!records(root, 'sessions').includes(`${session.id}.json`));
  assert.ok(!records(root).includes(`${session.kernel.id}.json`));
});

test('standalone: a warm pool kernel left by SIGINT goes back to the pool, and no second one is started', { timeout: 120_000 }, async (t) => {
  const root = scratchDir('kg-store-');
  const pooled = ['--KernelGatewayApp.warm_pool=python3=1'];
  let gw = await gateway(root, pooled);
  t.after(async () => {
    await gw.stop('SIGKILL');
  });
  type Pool = { ready: { id: string; pid: number | null }[]; starting: number };
  const pool = async (): Promise<Pool> => ((await (await fetch(`${gw.url}/api/gateway/status`)).json()) as { warm_pool: Pool[] }).warm_pool[0]!;
  assert.ok(await waitFor(async () => (await pool()).ready.length === 1, 60_000, 100), 'the pool fills');
  const [ready] = (await pool()).ready;
  assert.equal(await gw.stop('SIGINT'), 0);
  assert.ok(processAlive(ready!.pid!), 'the pool kernel outlives the gateway');

  gw = await gateway(root, pooled);
  assert.match(gw.logs(), /re-adopted into the warm pool/, gw.logs());
  const again = await pool();
  assert.deepEqual(again.ready.map((k) => k.id), [ready!.id]);
  assert.equal(again.starting, 0, 'the pool is full with the kernel it had');
  assert.equal(records(root).length, 1);
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 201);
  assert.equal(((await res.json()) as { id: string }).id, ready!.id, 'and it is handed out warm');
  assert.equal((await fetch(`${gw.url}/api/kernels/${ready!.id}`, { method: 'DELETE' })).status, 204);
  // The refill is a pool kernel with a record too; the test's end kills it.
  assert.ok(await waitFor(async () => (await pool()).ready.length === 1, 60_000, 100));
  await gw.stop('SIGKILL');
  for (const k of (await Promise.all(records(root).map((n) => kernelPids(n.slice(0, -5))))).flat()) process.kill(k, 'SIGKILL');
});

test('standalone: a kernel still starting when the gateway is killed is ended by the next gateway; a failed launch leaves no record', { timeout: 120_000 }, async (t) => {
  const root = scratchDir('kg-store-');
  // Kernelspecs that take a minute to become a kernel, and that never do.
  const data = scratchDir('kg-avail-specs-');
  const spec = (name: string, script: string): void => {
    mkdirSync(join(data, 'kernels', name), { recursive: true });
    writeFileSync(join(data, 'kernels', name, 'kernel.json'), JSON.stringify({ display_name: name, language: 'python', argv: ['/bin/bash', '-c', script, '{connection_file}'] }));
  };
  spec('slow_start', 'sleep 60; exec /usr/bin/python3 -m ipykernel_launcher -f "$0"');
  spec('fails_fast', 'exit 3');
  const env = { JUPYTER_PATH: data };
  let gw = await gateway(root, [], env);
  let pid: number | undefined;
  t.after(async () => {
    await gw.stop('SIGKILL');
    if (pid && processAlive(pid)) process.kill(-pid, 'SIGKILL');
  });

  const failed = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'fails_fast' }) });
  assert.equal(failed.status, 500, await failed.clone().text());
  assert.deepEqual(records(root), [], 'a failed launch leaves no record');

  const starting = fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'slow_start' }) }).catch((err: Error) => err);
  assert.ok(await waitFor(() => records(root).length === 1, 30_000, 50), 'the launching kernel has a record');
  const [name] = records(root);
  const record = JSON.parse(readFileSync(join(root, 'kernels', name!), 'utf8')) as { launching: boolean; description: { pid: number; connectionFile: string } };
  assert.equal(record.launching, true);
  pid = record.description.pid;
  await gw.stop('SIGKILL');
  await starting;
  assert.ok(processAlive(pid), 'the launching kernel outlives the killed gateway');

  gw = await gateway(root, [], env);
  assert.match(gw.logs(), /still starting when its gateway stopped/, gw.logs());
  assert.ok(await waitFor(() => !processAlive(pid!), 10_000), 'the next gateway ends it');
  assert.deepEqual(records(root), []);
  assert.ok(!existsSync(record.description.connectionFile), 'and removes its connection file');
  assert.deepEqual(await listed(gw), []);
});

test('standalone: a gateway whose start-up fails leaves the re-adopted kernels running; a restart killed halfway leaves no process behind', { timeout: 180_000 }, async (t) => {
  const root = scratchDir('kg-store-');
  // A kernel that starts at once the first time and takes a minute when restarted.
  const data = scratchDir('kg-avail-specs-');
  const marker = join(data, 'started-once');
  mkdirSync(join(data, 'kernels', 'slow_restart'), { recursive: true });
  const script = `if [ -e '${marker}' ]; then sleep 60; fi; touch '${marker}'; exec /usr/bin/python3 -m ipykernel_launcher -f "$0"`;
  writeFileSync(join(data, 'kernels', 'slow_restart', 'kernel.json'), JSON.stringify({ display_name: 'slow_restart', language: 'python', argv: ['/bin/bash', '-c', script, '{connection_file}'] }));
  const env = { JUPYTER_PATH: data };
  let gw = await gateway(root, [], env);
  const busy = createServer();
  t.after(async () => {
    busy.close();
    await gw.stop('SIGKILL');
  });
  const id = await startKernel(gw);
  const pids = (await kernelPids(id)).sort();
  assert.equal(await gw.stop('SIGTERM'), 0);

  // The next gateway re-adopts the kernel, then cannot listen: it must not take the kernel down with it.
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  const args = ['--KernelGatewayApp.availability_mode=standalone', `--KernelGatewayApp.persistence_root=${root}`, `--KernelGatewayApp.port=${port}`, '--KernelGatewayApp.port_retries=0', '--KernelGatewayApp.ip=127.0.0.1'];
  await assert.rejects(launchGatewayProcess(args, { ...process.env, JUPYTER_RUNTIME_DIR: runtimeDir, ...env }), /exited \(1\)[^]*re-adopted 1 kernel/);
  for (const pid of pids) assert.ok(processAlive(pid), `kernel ${id} (pid ${pid}) outlived the failed start-up`);
  assert.deepEqual(records(root), [`${id}.json`]);

  gw = await gateway(root, [], env);
  assert.match(gw.logs(), /re-adopted 1 kernel\(s\)/, gw.logs());
  assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);

  // A restart whose new process is still starting when the gateway is killed: its record names
  // the new process, so the next gateway ends it (it does not answer) instead of leaking it.
  const slow = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'slow_restart' }) });
  assert.equal(slow.status, 201, await slow.clone().text());
  const slowId = ((await slow.json()) as { id: string }).id;
  const before = JSON.parse(readFileSync(join(root, 'kernels', `${slowId}.json`), 'utf8')) as { description: { pid: number } };
  const restarting = fetch(`${gw.url}/api/kernels/${slowId}/restart`, { method: 'POST' }).catch((err: Error) => err);
  const newPid = (): number => (JSON.parse(readFileSync(join(root, 'kernels', `${slowId}.json`), 'utf8')) as { description: { pid: number } }).description.pid;
  assert.ok(await waitFor(() => newPid() !== before.description.pid, 30_000, 50), 'the record names the restart\'s new process');
  const pid = newPid();
  await gw.stop('SIGKILL');
  await restarting;
  assert.ok(processAlive(pid), 'the new process outlives the killed gateway');
  gw = await gateway(root, [], env);
  assert.ok(await waitFor(() => !processAlive(pid), 30_000, 100), 'the next gateway ends it');
  assert.deepEqual(records(root), []);
});
