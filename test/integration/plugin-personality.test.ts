// --api with a plug-in module: the example personality (examples/hello-personality.ts), loaded
// by relative path (flag) and absolute path (KG_API), through real gateway processes: its
// route under base_url and behind the token, shouldSeedCell filtering the seed notebook, its
// kernel ended on SIGTERM; and modules that cannot be personalities refused at start-up.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startGateway, waitFor } from '../helpers/gateway-process.js';
import { jupyterDirs, processesMentioning, runCommand, writeNotebook } from '../server/gateway-fixtures.js';

const EXAMPLE = './dist/examples/hello-personality.js';
const dirs = jupyterDirs();
after(() => dirs.cleanup());

describe('the example hello personality', () => {
  test('by relative path: its route under base_url and the token, seeded except cells it skips', async () => {
    const nbDir = join(dirs.root, 'nb');
    mkdirSync(nbDir, { recursive: true });
    const seed = writeNotebook(nbDir, 'greeting.ipynb', 'python3', ["def greet(name):\n    return f'hi there, {name}'", "# hello: skip\nraise RuntimeError('a skipped cell ran')"]);
    const runtime = join(dirs.root, 'runtime-relative');
    const gw = await startGateway([`--api=${EXAMPLE}`, `--seed_uri=${seed}`, '--KernelGatewayApp.base_url=/hi'], { ...dirs.env, JUPYTER_RUNTIME_DIR: runtime, KG_AUTH_TOKEN: 'tkn' });
    try {
      const headers = { Authorization: 'token tkn' };
      assert.equal((await fetch(`${gw.url}/hello/world`)).status, 401, 'the gateway token guards plug-in routes');
      const res = await fetch(`${gw.url}/hello/world`, { headers });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hi there, world\n');
      const tricky = `x'); print('injected`;
      assert.equal(await (await fetch(`${gw.url}/hello/${encodeURIComponent(tricky)}`, { headers })).text(), `hi there, ${tricky}\n`, 'the name is data, not code');
      assert.equal((await fetch(`${gw.url}/api`, { headers })).status, 404, 'no jupyter-websocket routes in this personality');
      assert.equal((await fetch(`${new URL(gw.url).origin}/hello/world`, { headers })).status, 404, 'routes live under base_url');
      assert.equal(processesMentioning(runtime).length, 1, 'the kernel it started in init()');
    } finally {
      assert.equal(await gw.stop(), 0);
    }
    assert.ok(await waitFor(() => processesMentioning(runtime).length === 0, 10_000), 'its kernel ended with the gateway');
  });

  test('by absolute path in KG_API, without a seed: the default greet()', async () => {
    const gw = await startGateway([], { ...dirs.env, KG_API: resolve(EXAMPLE) });
    try {
      assert.equal(await (await fetch(`${gw.url}/hello/ann`)).text(), 'hello, ann\n');
    } finally {
      await gw.stop();
    }
  });
});

describe("a plug-in's own options", () => {
  test('set by flag and by env like the built-ins, checked, listed by --help-all and --show-config', async () => {
    const [flag, env] = await Promise.all([
      startGateway([`--api=${EXAMPLE}`, '--HelloPersonality.greeting=howdy'], dirs.env),
      startGateway(['--HelloPersonality.greting=yo'], { ...dirs.env, KG_API: resolve(EXAMPLE), KG_HELLO_GREETING: 'hey' }),
    ]);
    try {
      assert.equal(await (await fetch(`${flag.url}/hello/ann`)).text(), 'howdy, ann\n');
      assert.equal(await (await fetch(`${env.url}/hello/bo`)).text(), 'hey, bo\n');
      assert.match(env.logs(), /did you mean --HelloPersonality\.greeting\?/, 'a misspelt plug-in option gets the same hint as ours');
      assert.doesNotMatch(flag.logs(), /Ignoring/, 'a declared option is not unknown');
    } finally {
      await Promise.all([flag.stop(), env.stop()]);
    }
    const [help, shown] = await Promise.all([runCommand(['--help-all', `--api=${EXAMPLE}`], dirs.env), runCommand(['--show-config', `--api=${EXAMPLE}`, '--HelloPersonality.greeting=yo'], dirs.env)]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--HelloPersonality\.greeting=<Unicode>\n\s+Default: 'hello'/);
    assert.match(help.stdout, /What the default greet\(\) says/);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /HelloPersonality[\s\S]*\.greeting = 'yo'\s+# from command line/);
  });

  test('a declaration that would take a section of the gateway, or is malformed, is refused (exit 2)', async () => {
    const dir = join(dirs.root, 'plugins-options');
    mkdirSync(dir, { recursive: true });
    const factory = 'export function createPersonality() { return { routes() {} }; }\n';
    writeFileSync(join(dir, 'takeover.mjs'), `${factory}export const personalityOptions = { section: 'KernelGatewayApp', defaults: () => ({ port: 1 }), options: [{ name: 'port', type: 'int', help: 'x' }] };\n`);
    writeFileSync(join(dir, 'nodefault.mjs'), `${factory}export const personalityOptions = { section: 'Mine', defaults: () => ({}), options: [{ name: 'colour', type: 'string', help: 'x' }] };\n`);
    const [takeover, nodefault] = await Promise.all([runCommand(['--port=0', `--api=${join(dir, 'takeover.mjs')}`], dirs.env), runCommand(['--port=0', `--api=${join(dir, 'nodefault.mjs')}`], dirs.env)]);
    assert.equal(takeover.code, 2);
    assert.match(takeover.stderr, /section KernelGatewayApp is the gateway's own/);
    assert.equal(nodefault.code, 2);
    assert.match(nodefault.stderr, /Mine\.colour has no default/);
  });
});

describe('built-in personality names', () => {
  test("jupyter-websocket by its short name (flag) and its module name (KG_API)", async () => {
    const [short, full] = await Promise.all([startGateway(['--api', 'jupyter-websocket'], dirs.env), startGateway([], { ...dirs.env, KG_API: 'kernel_gateway.jupyter_websocket' })]);
    try {
      for (const gw of [short, full]) assert.equal((await fetch(`${gw.url}/api/kernelspecs`)).status, 200);
    } finally {
      await Promise.all([short.stop(), full.stop()]);
    }
  });
});

describe('modules that are not personalities', () => {
  test('no createPersonality export, or a failing init(): exit 1 with one line', async () => {
    const dir = join(dirs.root, 'plugins');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'empty.mjs'), 'export const somethingElse = 1;\n');
    writeFileSync(join(dir, 'failing.mjs'), "export function createPersonality() { return { routes() {}, async init() { throw new Error('no database') } }; }\n");
    const [empty, failing] = await Promise.all([runCommand(['--port=0', `--api=${join(dir, 'empty.mjs')}`], dirs.env), runCommand(['--port=0', `--api=${join(dir, 'failing.mjs')}`], dirs.env)]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /ERROR API module \S+empty\.mjs does not export createPersonality\n$/);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /ERROR Start-up failed: no database\n$/);
  });
});
