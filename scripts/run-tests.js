#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js) with node's test runner. Integration tests
// need real kernels: without a python3 kernelspec they would fail, so say what to install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');

function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...find(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = find(testRoot)
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort();
if (!['/usr/share/jupyter/kernels/python3', '/usr/local/share/jupyter/kernels/python3'].some((d) => existsSync(d)) && !process.env.JUPYTER_PATH) {
  console.error('[test] no python3 kernelspec found: install Debian\'s python3-ipykernel (apt-get install python3-ipykernel xpython) for the integration tests');
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
