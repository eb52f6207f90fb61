// Seed notebooks read from disk: a plain path or a file:// URI, decoded as a file URL (a folder
// whose name holds a space or a % is found), and refusals as NotebookError.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadNotebook, localNotebookPath } from '../../src/kernels/notebook.js';
import { NotebookError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kg-notebook-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'my notebooks 100%25 %');
mkdirSync(dir);
const file = join(dir, 'seed nb.ipynb');
const notebook = { cells: [{ cell_type: 'code', source: ['x = 1\n', 'print(x)'], metadata: {} }], metadata: { kernelspec: { name: 'python3' } }, nbformat: 4, nbformat_minor: 5 };
writeFileSync(file, JSON.stringify(notebook));

test('a file:// URI of a folder whose name holds a space and a % is read from that folder', async () => {
  const uri = pathToFileURL(file).href;
  assert.match(uri, /%20/, 'the URI escapes the space');
  assert.match(uri, /%25/, 'the URI escapes the %');
  assert.equal(localNotebookPath(uri), file);
  const { notebook: nb, text } = await loadNotebook(uri);
  assert.equal(text, JSON.stringify(notebook));
  assert.equal(nb.metadata.kernelspec?.name, 'python3');
  assert.equal(nb.cells.length, 1);
});

test('a plain path is read as it is, %-sequences included', async () => {
  assert.equal(localNotebookPath(file), file);
  assert.equal((await loadNotebook(file)).notebook.cells.length, 1);
  assert.equal(localNotebookPath('http://example.com/a.ipynb'), undefined);
});

test('a missing file or an unusable file URL is a NotebookError', async () => {
  await assert.rejects(loadNotebook(pathToFileURL(join(dir, 'absent.ipynb')).href), (err: unknown) => err instanceof NotebookError && /ENOENT/.test(err.message));
  await assert.rejects(loadNotebook('file://some-host/x.ipynb'), NotebookError);
});
