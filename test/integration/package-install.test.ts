// The package as users get it: `npm pack` (the tree is already built; prepack builds it for a
// real pack), `npm install <tarball>` into an empty directory, then the installed command
// serves a real kernel, and a plug-in written against the package's public entry point loads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launchGatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the npm package', () => {
  let dir: string;
  let tarball: string;
  let installSeconds: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kg-package-'));
    // --ignore-scripts: prepack would rebuild dist/ under the feet of the other test files.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; entryCount: number; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    console.log(`# tarball ${info!.filename}: ${(info!.size / 1024).toFixed(0)} kB, ${info!.entryCount} files`);
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/index.js') && files.includes('dist/src/index.d.ts') && files.includes('bin/kernel-gateway.js'), 'the built code ships');
    assert.deepEqual(files.filter((f) => /^(dist\/)?(test|bench|scripts)\//.test(f) || f.startsWith('src/')), [], 'no tests, benchmarks, scripts or sources');
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const t0 = Date.now();
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: join(dir, 'app'), maxBuffer: 16 * 1024 * 1024 });
    installSeconds = (Date.now() - t0) / 1000;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prepack builds, so a real `npm pack` ships dist/', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; exports: Record<string, unknown>; types: string };
    assert.equal(pkg.scripts.prepack, 'npm run build');
    assert.equal(pkg.types, './dist/src/index.d.ts');
  });

  test('the installed command serves a real kernel, and a plug-in loads through the package entry point', async () => {
    const app = join(dir, 'app');
    const t0 = Date.now();
    const gw = await launchGatewayProcess(['--port=0'], { ...process.env, JUPYTER_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'kg-pkg-rt-')) }, 60_000, join(app, 'node_modules', '.bin', 'kernel-gateway'));
    try {
      const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      const client = await RawKernelClient.connect(gw.url, id);
      const out = await client.execute('1+1');
      client.close();
      console.log(`# npm install of the tarball: ${installSeconds.toFixed(1)} s; from start of the installed command to 1+1: ${Date.now() - t0} ms`);
      assert.equal((out.find((m) => m.header.msg_type === 'execute_result')?.content.data as Record<string, string>)['text/plain'], '2');
      assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
    } finally {
      assert.equal(await gw.stop(), 0);
    }

    // The example plug-in, compiled, placed in the app: its `import ... from 'kernel-gateway'`
    // resolves to the installed package.
    copyFileSync(join(ROOT, 'dist', 'examples', 'hello-personality.js'), join(app, 'hello-personality.js'));
    const plugin = await launchGatewayProcess(['--port=0', '--api=./hello-personality.js'], { ...process.env, JUPYTER_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'kg-pkg-rt-')) }, 60_000, join(app, 'node_modules', '.bin', 'kernel-gateway'), app);
    try {
      const hello = await fetch(`${plugin.url}/hello/package`);
      assert.equal(hello.status, 200);
      assert.equal(await hello.text(), 'hello, package\n');
    } finally {
      assert.equal(await plugin.stop(), 0);
    }
  });
});
