// The layers of ARCHITECTURE.md, checked: each folder of src/ imports only from the layers it may
// depend on. Dependencies point down (cli > server > personalities > sessions > kernels >
// protocol); errors.ts, config/, http/ and observability/ are neutral and import no layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Which top-level parts of src/ each part may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  'errors.ts': [],
  config: [],
  observability: [],
  protocol: ['errors.ts'],
  http: ['errors.ts'],
  kernels: ['errors.ts', 'observability', 'protocol'],
  sessions: ['errors.ts', 'kernels'],
  personalities: ['errors.ts', 'config', 'http', 'observability', 'protocol', 'kernels', 'sessions'],
  server: ['errors.ts', 'config', 'http', 'observability', 'protocol', 'kernels', 'sessions', 'personalities'],
  cli: ['errors.ts', 'config', 'kernels', 'server', 'personalities'],
  'index.ts': ['errors.ts', 'config', 'kernels', 'personalities', 'server', 'cli'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative specifiers of a file's static imports and exports, and of `import('...')` with a literal. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)|new URL\('(\.[^']+)', import\.meta\.url\)/g)];
  return found.map((m) => m[1] ?? m[2] ?? m[3]!).filter(Boolean);
}

const part = (path: string): string => relative(SRC, path).split('/')[0]!;

test('every import in src/ goes down the layers', () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const from = part(file);
    for (const spec of imports(file)) {
      const to = part(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      if (to !== from && !(ALLOWED[from] ?? []).includes(to)) wrong.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the server reaches personalities only through the plug-in contract and the loader', () => {
  const wrong: string[] = [];
  for (const file of files(join(SRC, 'server'))) {
    for (const spec of imports(file)) {
      const target = relative(SRC, resolve(dirname(file), spec));
      if (!target.startsWith('personalities/')) continue;
      const viaLoader = relative(SRC, file) === 'server/personality-loader.ts';
      if (target !== 'personalities/personality.js' && !viaLoader) wrong.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(wrong, []);
});
