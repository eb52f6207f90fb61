// The seed notebook served at /_api/source: a file:// URI is decoded as a file URL, so a folder
// whose name holds a space or a % is found, and the file is read again at each request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotebookSource } from '../../../src/personalities/notebook-http/static-files.js';
import { HttpError } from '../../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kg-static-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'with space %41 and 50%');
mkdirSync(dir);
const file = join(dir, 'api nb.ipynb');

test('NotebookSource reads a file:// URI of a folder whose name holds a space and a %', async () => {
  writeFileSync(file, '{"cells": [], "metadata": {}, "nbformat": 4}');
  const source = new NotebookSource(pathToFileURL(file).href);
  await source.init();
  assert.equal((await source.read()).toString(), '{"cells": [], "metadata": {}, "nbformat": 4}');
  writeFileSync(file, '{"cells": [], "metadata": {"changed": true}, "nbformat": 4}');
  assert.match((await source.read()).toString(), /changed/, 'read at each request');
});

test('NotebookSource takes a plain path as it is, and a vanished file is a 404', async () => {
  writeFileSync(file, '{}');
  assert.equal((await new NotebookSource(file).read()).toString(), '{}');
  const gone = new NotebookSource(pathToFileURL(join(dir, 'gone.ipynb')).href);
  await assert.rejects(gone.read(), (err: unknown) => err instanceof HttpError && err.status === 404);
});
