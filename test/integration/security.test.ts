// Serving options through one real gateway process, set in all three forms (flags, KG_* env,
// config file): auth_token on REST and websockets, CORS headers on every kind of response,
// the cross-origin guard, base_url on every resource, and what reaches a kernel's environment
// (env_process_whitelist, env_whitelist, KERNEL_*, never the token), checked by running code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const TOKEN = 'tok-s3cret-value';
const APP_ORIGIN = 'https://app.example';
const CORS = {
  'access-control-allow-origin': APP_ORIGIN,
  'access-control-allow-methods': 'GET, POST, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'Location',
  'access-control-max-age': '600',
};

const dirs = jupyterDirs();
let gw: GatewayProcess;
let origin: string; // scheme://host:port of the gateway, without base_url

before(async () => {
  mkdirSync(dirs.env.JUPYTER_CONFIG_DIR!, { recursive: true });
  writeFileSync(
    join(dirs.env.JUPYTER_CONFIG_DIR!, 'jupyter_kernel_gateway_config.json'),
    JSON.stringify({ KernelGatewayApp: { max_age: '600', allow_credentials: 'true' }, JupyterWebsocketPersonality: { list_kernels: true } }),
  );
  gw = await startGateway(
    [
      '--KernelGatewayApp.base_url=/base/',
      `--KernelGatewayApp.allow_origin=${APP_ORIGIN}`,
      '--KernelGatewayApp.allow_methods',
      'GET, POST, DELETE',
      '--KernelGatewayApp.expose_headers=Location',
      '--KernelGatewayApp.env_process_whitelist=GW_VISIBLE',
      '--JupyterWebsocketPersonality.env_whitelist=ALLOWED_VAR',
      '--KernelGatewayApp.default_kernel_name=xpython',
    ],
    { ...dirs.env, KG_AUTH_TOKEN: TOKEN, KG_ALLOW_HEADERS: 'Authorization, Content-Type', GW_VISIBLE: 'visible', GW_HIDDEN: 'hidden' },
  );
  origin = new URL(gw.url).origin;
});

after(async () => {
  await gw?.stop();
  dirs.cleanup();
});

const auth = { Authorization: `token ${TOKEN}` };
const call = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${origin}${path}`, init);
const authed = (path: string, init: RequestInit = {}): Promise<Response> => call(path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });

function assertCors(res: Response, what: string): void {
  for (const [name, value] of Object.entries(CORS)) assert.equal(res.headers.get(name), value, `${what}: ${name}`);
}

/** The status of a websocket upgrade: 101 when it opens, else the refusal's status and body. */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}${path}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

async function startKernel(body: unknown): Promise<{ id: string; name: string }> {
  const res = await authed('/base/api/kernels', { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  const model = (await res.json()) as { id: string; name: string };
  assert.equal(res.headers.get('location'), `/base/api/kernels/${model.id}`, 'Location includes base_url');
  return model;
}

/** The kernel's os.environ, read by running code over the websocket (token in the query). */
async function kernelEnv(id: string): Promise<Record<string, string>> {
  const client = await RawKernelClient.connect(gw.url, id, `?token=${encodeURIComponent(TOKEN)}`);
  try {
    const msgs = await client.execute('import os, json\nprint(json.dumps(dict(os.environ)))');
    const out = msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('');
    return JSON.parse(out) as Record<string, string>;
  } finally {
    client.close();
  }
}

describe('auth_token', () => {
  test('required as `Authorization: token` or ?token=; 401 JSON otherwise', async () => {
    const none = await call('/base/api');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await none.json(), { reason: 'Unauthorized', message: '' });
    assert.equal((await authed('/base/api')).status, 200);
    assert.equal((await call(`/base/api?token=${TOKEN}`)).status, 200);
    assert.equal((await call('/base/api', { headers: { Authorization: 'token wrong' } })).status, 401);
    assert.equal((await call('/base/api', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 401);
    assert.equal((await call(`/base/api?token=${TOKEN}x`)).status, 401);
    assert.equal((await authed('/base/api?token=wrong')).status, 401, 'a wrong ?token= is refused even beside a right header, as the original');
    assert.equal((await call('/base/api/kernels', { method: 'POST' })).status, 401, 'no kernel starts without the token');
    assert.equal((await call('/base/api/swagger.json')).status, 401);
    assert.equal((await call('/base/kernelspecs/python3/logo-64x64.png')).status, 401);
  });

  test('the token is masked in the access log', async () => {
    await call(`/base/api/kernelspecs?token=${TOKEN}`);
    await waitFor(() => gw.logs().includes('/base/api/kernelspecs?token=[secret]'));
    assert.ok(!gw.logs().includes(TOKEN), 'the token never appears in the log');
  });
});

describe('CORS headers, exactly as configured', () => {
  test('on successes, errors and preflights (which need no token)', async () => {
    assertCors(await authed('/base/api'), '200');
    assertCors(await call('/base/api'), '401');
    assertCors(await authed('/base/api/nothing-here'), '404');
    assertCors(await authed('/base/api', { method: 'DELETE' }), '405');
    assertCors(await authed('/base/api/kernels', { method: 'POST', body: '{bad json' }), '400');
    const preflight = await call('/base/api/kernels', { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 200);
    assertCors(preflight, 'preflight');
    const malformed = await authed('/base/api/kernels', { method: 'POST', body: '{bad json' });
    assert.deepEqual(await malformed.json(), { reason: 'Bad Request', message: 'Invalid JSON in body of request' });
  });
});

describe('cross-origin guard', () => {
  test('REST: another origin gets 404 unless it is allow_origin; the same host passes', async () => {
    const evil = await authed('/base/api', { headers: { Origin: 'https://evil.example' } });
    assert.equal(evil.status, 404);
    assert.equal((await authed('/base/api', { headers: { Origin: APP_ORIGIN } })).status, 200);
    assert.equal((await authed('/base/api', { headers: { Origin: origin } })).status, 200);
  });

  test('websocket: 401 without the token, 403 from another origin, 101 otherwise', async () => {
    const kernel = await startKernel({ name: 'python3' });
    const path = `/base/api/kernels/${kernel.id}/channels`;
    const noToken = await upgrade(path);
    assert.equal(noToken.status, 401);
    assert.equal(JSON.parse(noToken.body).reason, 'Unauthorized');
    assert.equal((await upgrade(`${path}?token=wrong`)).status, 401);
    assert.equal((await upgrade(path, { ...auth, Origin: 'https://evil.example' })).status, 403);
    assert.equal((await upgrade(path, { ...auth, Origin: APP_ORIGIN })).status, 101);
    assert.equal((await upgrade(`${path}?token=${TOKEN}`)).status, 101);
    assert.equal((await upgrade(`/api/kernels/${kernel.id}/channels?token=${TOKEN}`)).status, 404, 'websockets live under base_url only');
    assert.equal((await authed(`/base/api/kernels/${kernel.id}`, { method: 'DELETE' })).status, 204);
  });
});

describe('base_url', () => {
  test('REST, kernelspec files and swagger are under it and nowhere else', async () => {
    assert.equal((await authed('/api')).status, 404);
    assert.equal((await authed('/api/kernelspecs')).status, 404);
    const specs = (await (await authed('/base/api/kernelspecs')).json()) as { default: string; kernelspecs: Record<string, { resources: Record<string, string> }> };
    assert.equal(specs.default, 'xpython', 'default_kernel_name');
    const logo = specs.kernelspecs.python3!.resources['logo-64x64']!;
    assert.equal(logo, '/base/kernelspecs/python3/logo-64x64.png');
    const file = await authed(logo);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'image/png');
    const swagger = await authed('/base/api/swagger.json');
    assert.equal(swagger.status, 200);
    assert.equal(((await swagger.json()) as { basePath: string }).basePath, '/base');
    assert.equal((await authed('/base/api/swagger.yaml')).headers.get('content-type'), 'text/x-yaml');
  });
});

describe("a kernel's environment", () => {
  test('with a request env: PATH, env_process_whitelist, KERNEL_* and env_whitelist only, values as data; never the token', async () => {
    const tricky = '$(echo injected); `id`; "quoted" \'single\' \\ end';
    const kernel = await startKernel({ name: 'python3', env: { KERNEL_USERNAME: 'ann', KERNEL_TRICKY: tricky, ALLOWED_VAR: 'allowed', OTHER_VAR: 'dropped', KG_AUTH_TOKEN: 'from-request', KERNEL_GATEWAY: '0' } });
    assert.equal(kernel.name, 'python3');
    const env = await kernelEnv(kernel.id);
    assert.equal(env.KERNEL_USERNAME, 'ann');
    assert.equal(env.KERNEL_TRICKY, tricky, 'passed as data, never through a shell');
    assert.equal(env.ALLOWED_VAR, 'allowed');
    assert.equal(env.GW_VISIBLE, 'visible');
    assert.equal(env.KERNEL_GATEWAY, '1');
    assert.ok(env.PATH);
    for (const absent of ['OTHER_VAR', 'GW_HIDDEN', 'KG_AUTH_TOKEN', 'JUPYTER_CONFIG_DIR', 'HOME']) assert.equal(env[absent], undefined, absent);
    assert.ok(!Object.values(env).some((v) => v.includes(TOKEN)), 'the token is in no variable');
    assert.equal((await authed(`/base/api/kernels/${kernel.id}`, { method: 'DELETE' })).status, 204);
  });

  test('without a request env: all of the gateway env but the token; the default kernel is default_kernel_name', async () => {
    const kernel = await startKernel({});
    assert.equal(kernel.name, 'xpython');
    const env = await kernelEnv(kernel.id);
    assert.equal(env.GW_HIDDEN, 'hidden');
    assert.equal(env.GW_VISIBLE, 'visible');
    assert.equal(env.KERNEL_GATEWAY, '1');
    assert.equal(env.KG_AUTH_TOKEN, undefined);
    assert.ok(!Object.values(env).some((v) => v.includes(TOKEN)), 'the token is in no variable');
  });
});

describe('signals', () => {
  test('SIGHUP is ignored; SIGINT ends the gateway and every kernel', async () => {
    const kernels = (await (await authed('/base/api/kernels')).json()) as { id: string }[];
    assert.ok(kernels.length >= 1, 'a kernel still runs');
    const pids = (await Promise.all(kernels.map((k) => kernelPids(k.id)))).flat();
    assert.equal(pids.length, kernels.length);
    gw.proc.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await authed('/base/api')).status, 200, 'still serving after SIGHUP');
    assert.equal(await gw.stop('SIGINT'), 0);
    assert.ok(await waitFor(() => pids.every((pid) => !processAlive(pid)), 10_000), 'every kernel process is gone');
  });
});
