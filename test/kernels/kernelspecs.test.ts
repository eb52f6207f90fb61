import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelSpecManager, parseKernelSpec } from '../../src/kernels/kernelspecs.js';
import { jupyterDataPath } from '../../src/kernels/jupyter-paths.js';

function specDir(root: string, name: string, spec: unknown, extra: Record<string, string> = {}): void {
  const dir = join(root, 'kernels', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kernel.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  for (const [f, c] of Object.entries(extra)) writeFileSync(join(dir, f), c);
}

test('data path order: JUPYTER_PATH, then the user dir, then the system dirs', () => {
  const dirs = jupyterDataPath({ JUPYTER_PATH: '/a:/b', JUPYTER_DATA_DIR: '/u' });
  assert.deepEqual(dirs, ['/a', '/b', '/u', '/usr/local/share/jupyter', '/usr/share/jupyter']);
});

test('the first dir that has a name wins; broken specs are skipped with a warning', () => {
  const first = mkdtempSync(join(tmpdir(), 'ks1-'));
  const second = mkdtempSync(join(tmpdir(), 'ks2-'));
  specDir(first, 'py', { argv: ['python', '-f', '{connection_file}'], display_name: 'First', language: 'python' }, { 'logo-64x64.png': 'png', 'kernel.js': 'js', 'other.txt': 'x' });
  specDir(second, 'py', { argv: ['python'], display_name: 'Second', language: 'python' });
  specDir(second, 'broken', '{not json');
  specDir(second, 'noargv', { display_name: 'x' });
  const warnings: string[] = [];
  const specs = new KernelSpecManager(() => [first, second], (m) => warnings.push(m));
  const all = specs.findAll();
  assert.deepEqual([...all.keys()].sort(), ['py']);
  assert.equal(all.get('py')!.spec.display_name, 'First');
  assert.equal(all.get('py')!.spec.interrupt_mode, 'signal');
  assert.equal(warnings.length, 2);
  assert.deepEqual(specs.resources(all.get('py')!), ['kernel.js', 'logo-64x64.png']);
});

test('resource paths cannot escape the kernelspec dir', () => {
  const root = mkdtempSync(join(tmpdir(), 'ks3-'));
  specDir(root, 'k', { argv: ['x'] }, { 'logo-32x32.png': 'png' });
  writeFileSync(join(root, 'secret.txt'), 'secret');
  const specs = new KernelSpecManager(() => [root], () => undefined);
  assert.ok(specs.resourcePath('k', 'logo-32x32.png'));
  assert.equal(specs.resourcePath('k', '../../secret.txt'), undefined);
  assert.equal(specs.resourcePath('k', '/etc/passwd'), undefined);
  assert.equal(specs.resourcePath('nope', 'logo-32x32.png'), undefined);
});

test('parseKernelSpec explains what is wrong', () => {
  assert.throws(() => parseKernelSpec('{"argv": []}', 'k.json'), /argv/);
  assert.throws(() => parseKernelSpec('{"argv": ["x"], "interrupt_mode": "nope"}', 'k.json'), /interrupt_mode/);
  assert.throws(() => parseKernelSpec('{"argv": ["x"], "env": []}', 'k.json'), /env/);
});
