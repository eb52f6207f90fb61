import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentTypeFor } from '../../src/http/content-types.js';

test('content types come from the extension, case-insensitively, bytes when unknown', () => {
  assert.equal(contentTypeFor('/k/logo-64x64.png'), 'image/png');
  assert.equal(contentTypeFor('/k/kernel.js'), 'text/javascript');
  assert.equal(contentTypeFor('/k/kernel.JSON'), 'application/json');
  assert.equal(contentTypeFor('notebook.ipynb'), 'application/x-ipynb+json');
  assert.equal(contentTypeFor('clip.mp4'), 'video/mp4');
  assert.equal(contentTypeFor('font.woff2'), 'font/woff2');
  assert.equal(contentTypeFor('script.py'), 'application/octet-stream');
  assert.equal(contentTypeFor('LICENSE'), 'application/octet-stream');
});
