#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages when node_modules is missing or stale,
// and compiles TypeScript when dist/ is older than the sources (always with --force).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  console.error('[setup] installing npm packages (npm ci)');
  run('npm ci --no-audit --no-fund');
}

const sources = Math.max(...['src', 'test', 'bench', 'examples'].map((d) => newest(join(root, d))), statSync(join(root, 'tsconfig.json')).mtimeMs);
const built = join(root, 'dist', 'src', 'cli', 'main.js');
if (process.argv.includes('--force') || !existsSync(built) || newest(join(root, 'dist')) < sources) {
  console.error('[setup] compiling TypeScript');
  run('npx tsc -p tsconfig.json');
}
