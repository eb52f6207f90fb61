// Serving and kernel-policy options through real gateway processes: port (env and config
// file forms), port_retries on a busy port, ip, max_kernels under concurrent starts,
// prespawn_count, seed_uri (http and file, only its kernelspec, a failing cell),
// force_kernel_name, list_kernels off, culling, kernel_launch_timeout, max_body_size,
// trust_xheaders; SIGTERM ends every kernel,
// also when it comes while kernels prespawn.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { BIN, kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { freePort, gatewayEnv, jupyterDirs, launchGateway, notebookJson, processesMentioning, runCommand, writeNotebook } from '../server/gateway-fixtures.js';

const dirs = jupyterDirs();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  dirs.cleanup();
});

/** A gateway stopped after the file's tests, whatever happens. */
async function gateway(start: Promise<GatewayProcess>): Promise<GatewayProcess> {
  const gw = await start;
  cleanups.push(() => gw.stop());
  return gw;
}

function listenOn(server: NetServer | HttpServer, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
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

const post = (gw: GatewayProcess, body: unknown): Promise<Response> => fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify(body) });

describe('ip, port and port_retries', () => {
  test('KG_PORT and a config file port are listened on', async () => {
    const [envPort, filePort] = [await freePort(), await freePort()];
    const configDir = join(dirs.root, 'port-config');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'jupyter_kernel_gateway_config.json'), JSON.stringify({ KernelGatewayApp: { port: filePort } }));
    const [byEnv, byFile] = await Promise.all([gateway(launchGateway([], { ...dirs.env, KG_PORT: String(envPort) })), gateway(launchGateway([], { ...dirs.env, JUPYTER_CONFIG_DIR: configDir }))]);
    assert.equal(byEnv.port, envPort);
    assert.equal(byFile.port, filePort);
    assert.equal((await fetch(`${byFile.url}/api`)).status, 200);
    await Promise.all([byEnv.stop(), byFile.stop()]);
  });

  test('a busy port moves to the next free one and says so; with port_retries=0 start-up fails', async () => {
    const blocker = createNetServer();
    const busy = await listenOn(blocker);
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const moved = await gateway(launchGateway([`--port=${busy}`], dirs.env));
    assert.ok(moved.port > busy && moved.port <= busy + 50, `listening on ${moved.port}`);
    assert.ok(moved.logs().includes(`The port ${busy} is already in use, trying another port.`));
    assert.equal((await fetch(`${moved.url}/api`)).status, 200);
    await moved.stop();
    const refused = await runCommand([`--port=${busy}`, '--port_retries=0'], dirs.env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`ERROR No available port could be found in ${busy}\\.\\.${busy} \\(port_retries=0\\)`));
  });

  test('ip picks the address listened on', async () => {
    const gw = await gateway(launchGateway(['--port=0', '--ip', '127.0.0.2'], dirs.env));
    assert.match(gw.url, /^http:\/\/127\.0\.0\.2:\d+/);
    assert.equal((await fetch(`${gw.url}/api`)).status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${gw.port}/api`), 'nothing on 127.0.0.1');
    await gw.stop();
  });
});

describe('max_kernels and prespawn_count', () => {
  test('prespawned kernels exist before the first request and count against max_kernels; concurrent starts never exceed it', async () => {
    const gw = await gateway(startGateway(['--JupyterWebsocketPersonality.list_kernels=True'], { ...dirs.env, KG_MAX_KERNELS: '3', KG_PRESPAWN_COUNT: '1' }));
    const first = (await (await fetch(`${gw.url}/api/kernels`)).json()) as { id: string }[];
    assert.equal(first.length, 1, 'one kernel prespawned before serving');
    assert.equal((await kernelPids(first[0]!.id)).length, 1);

    const answers = await Promise.all(Array.from({ length: 10 }, () => post(gw, {})));
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 403, 403, 403, 403, 403, 403, 403, 403]);
    for (const res of answers.filter((r) => r.status === 403)) assert.deepEqual(await res.json(), { reason: 'Forbidden', message: 'Resource Limit' });
    const running = (await (await fetch(`${gw.url}/api/kernels`)).json()) as { id: string }[];
    assert.equal(running.length, 3);
    const pids = (await Promise.all(running.map((k) => kernelPids(k.id)))).flat();
    assert.equal(pids.length, 3, 'three kernel processes, never more');

    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.ok(await waitFor(() => pids.every((pid) => !processAlive(pid)), 10_000), 'SIGTERM ended every kernel');
  });
});

describe('signals during start-up', () => {
  test('SIGTERM while kernels prespawn: start-up finishes, then every kernel ends and the exit is clean', async () => {
    const runtime = join(dirs.root, 'runtime-prespawn-sigterm');
    const proc = spawn(process.execPath, [BIN, '--port=0', '--KernelGatewayApp.prespawn_count=2'], { env: gatewayEnv({ ...dirs.env, JUPYTER_RUNTIME_DIR: runtime }), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void proc.kill('SIGKILL'));
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    assert.ok(await waitFor(() => output.includes('Prespawning 2 kernel(s)'), 15_000), output);
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.ok(await waitFor(() => processesMentioning(runtime).length === 0, 10_000), 'no kernel outlives the gateway');
  });
});

describe('seed_uri and kernel names', () => {
  let seedServer: HttpServer;
  let seedUrl: string;
  before(async () => {
    const nb = JSON.parse(notebookJson('python3', ["seeded = 'yes'", 'def twice(x):\n    return 2 * x']));
    nb.cells.splice(1, 0, { cell_type: 'markdown', source: 'raise this is not code', metadata: {} });
    seedServer = createHttpServer((req, res) => {
      if (req.url !== '/seed.ipynb') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(nb));
    });
    seedUrl = `http://127.0.0.1:${await listenOn(seedServer)}/seed.ipynb`;
    cleanups.push(() => new Promise<void>((r) => seedServer.close(() => r())));
  });

  test("an http(s) seed notebook's code cells run in new kernels of its kernelspec only", async () => {
    const gw = await gateway(startGateway([`--seed_uri=${seedUrl}`], dirs.env));
    const [py, xpy] = await Promise.all([post(gw, { name: 'python3' }), post(gw, { name: 'xpython' })]);
    assert.equal(py.status, 201);
    assert.equal(xpy.status, 201);
    const [pyKernel, xpyKernel] = (await Promise.all([py.json(), xpy.json()])) as { id: string; name: string }[];
    assert.equal(await printed(gw, pyKernel!.id, 'print(seeded, twice(21))'), 'yes 42');
    assert.equal(await printed(gw, xpyKernel!.id, "print('seeded' in globals())"), 'False');
    await gw.stop();
  });

  test('a failing seed cell (the last one) makes POST /api/kernels a 500 and leaves no kernel', async () => {
    const nbDir = join(dirs.root, 'nb');
    mkdirSync(nbDir, { recursive: true });
    const runtime = join(dirs.root, 'runtime-failing-seed');
    const seed = writeNotebook(nbDir, 'failing.ipynb', 'python3', ['ok = 1', "raise ValueError('seed boom')"]);
    const gw = await gateway(startGateway(['--KernelGatewayApp.seed_uri', seed, '--JupyterWebsocketPersonality.list_kernels=True'], { ...dirs.env, JUPYTER_RUNTIME_DIR: runtime }));
    const res = await post(gw, {});
    assert.equal(res.status, 500);
    const body = (await res.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Internal Server Error');
    assert.match(body.message, /seed cell 2 failed: ValueError: seed boom/i);
    assert.deepEqual(await (await fetch(`${gw.url}/api/kernels`)).json(), []);
    assert.ok(await waitFor(() => processesMentioning(runtime).length === 0, 10_000), 'no kernel process left behind');
    await gw.stop();
  });

  test('force_kernel_name overrides the requested kernel name; listing is off by default', async () => {
    const gw = await gateway(startGateway([], { ...dirs.env, KG_FORCE_KERNEL_NAME: 'xpython' }));
    const res = await post(gw, { name: 'python3' });
    assert.equal(res.status, 201);
    const kernel = (await res.json()) as { id: string; name: string };
    assert.equal(kernel.name, 'xpython');
    assert.equal(((await (await fetch(`${gw.url}/api/kernelspecs`)).json()) as { default: string }).default, 'xpython');
    for (const path of ['/api/kernels', '/api/sessions']) {
      const listing = await fetch(`${gw.url}${path}`);
      assert.equal(listing.status, 403, path);
      assert.deepEqual(await listing.json(), { reason: 'Forbidden', message: 'Forbidden' });
    }
    assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}`)).status, 200, 'one kernel can still be read');
    await gw.stop();
  });
});

describe('culling', () => {
  test('MappingKernelManager.cull_idle_timeout ends idle kernels; one with an open websocket stays until it closes', async () => {
    const gw = await gateway(startGateway(['--MappingKernelManager.cull_idle_timeout=1', '--KernelGatewayApp.cull_interval=0.3', '--JupyterWebsocketPersonality.list_kernels=True'], dirs.env));
    const [idle, watched] = (await Promise.all([post(gw, {}).then((r) => r.json()), post(gw, {}).then((r) => r.json())])) as { id: string }[];
    const client = await RawKernelClient.connect(gw.url, watched!.id);
    const idlePids = await kernelPids(idle!.id);
    assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${idle!.id}`)).status === 404, 10_000), 'the idle kernel is culled');
    assert.ok(await waitFor(() => idlePids.every((pid) => !processAlive(pid))), 'and its process ended');
    assert.match(gw.logs(), new RegExp(`Culling 'idle' kernel 'python3' \\(${idle!.id}\\) with 0 connections due to \\d+ seconds of inactivity`));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await fetch(`${gw.url}/api/kernels/${watched!.id}`)).status, 200, 'a kernel with a websocket open is not culled (cull_connected off)');
    client.close();
    assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${watched!.id}`)).status === 404, 10_000), 'culled once its websocket closed');
    await gw.stop();
  });
});

describe('limits', () => {
  test('kernel_launch_timeout fails a kernel that never answers (500, process ended); max_body_size answers 413', async () => {
    const data = join(dirs.root, 'silent-kernel-data');
    mkdirSync(join(data, 'kernels', 'silent'), { recursive: true });
    // A "kernel" that never answers kernel_info_request: the connection file in argv lets the
    // test find its process.
    writeFileSync(join(data, 'kernels', 'silent', 'kernel.json'), JSON.stringify({ argv: ['python3', '-c', 'import time; time.sleep(60)', '{connection_file}'], display_name: 'Silent', language: 'none' }));
    const runtime = join(dirs.root, 'runtime-limits');
    const gw = await gateway(startGateway(['--KernelGatewayApp.kernel_launch_timeout=1', '--KernelGatewayApp.max_body_size=64'], { ...dirs.env, JUPYTER_PATH: data, JUPYTER_RUNTIME_DIR: runtime }));
    const started = Date.now();
    const res = await post(gw, { name: 'silent' });
    assert.equal(res.status, 500);
    assert.match(((await res.json()) as { message: string }).message, /did not answer kernel_info_request within 1 s/);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(await waitFor(() => processesMentioning(runtime).length === 0, 10_000), 'the silent kernel process was ended');
    const big = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(100) }) });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { reason: string }).reason, 'Payload Too Large');
    await gw.stop();
  });
});

describe('trust_xheaders', () => {
  test('the access log shows X-Real-Ip / X-Forwarded-For only when trusted', async () => {
    const [trusting, plain] = await Promise.all([gateway(startGateway([], { ...dirs.env, KG_TRUST_XHEADERS: 'true' })), gateway(startGateway(['--KernelGatewayApp.trust_xheaders=False'], dirs.env))]);
    const headers = { 'X-Forwarded-For': '203.0.113.9, 198.51.100.7' };
    await Promise.all([fetch(`${trusting.url}/api?probe=1`, { headers }), fetch(`${trusting.url}/api?probe=2`, { headers: { 'X-Real-Ip': '192.0.2.44' } }), fetch(`${plain.url}/api?probe=3`, { headers })]);
    assert.ok(await waitFor(() => /GET \/api\?probe=1 \(198\.51\.100\.7\)/.test(trusting.logs()) && /GET \/api\?probe=2 \(192\.0\.2\.44\)/.test(trusting.logs())), trusting.logs());
    assert.ok(await waitFor(() => /GET \/api\?probe=3 \(127\.0\.0\.1\)/.test(plain.logs())), plain.logs());
    await Promise.all([trusting.stop(), plain.stop()]);
  });
});
