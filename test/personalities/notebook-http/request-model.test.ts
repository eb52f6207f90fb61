// REQUEST as a cell sees it: header names and lists, query arguments, the body by content type
// (JSON, forms, multipart with files, text, charsets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNotebookRequest, headersFromRaw, parseBody, queryArgs, titleCaseHeader } from '../../../src/personalities/notebook-http/request-model.js';
import { HttpError } from '../../../src/errors.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

test('header names are Title-Case as in the original; repeated headers become lists', () => {
  assert.equal(titleCaseHeader('content-TYPE'), 'Content-Type');
  assert.equal(titleCaseHeader('x-custom-header'), 'X-Custom-Header');
  assert.equal(titleCaseHeader('ETAG'), 'Etag');
  const h = headersFromRaw(['host', 'x', 'X-Multi', 'a', 'x-multi', 'b', 'X-MULTI', 'c', 'If-None-Match', '""9a28""']);
  assert.deepEqual(plain(h), { Host: 'x', 'X-Multi': ['a', 'b', 'c'], 'If-None-Match': '""9a28""' });
});

test('every query value is a list; blanks are kept; + and %XX decode', () => {
  assert.deepEqual(plain(queryArgs('/p?a=1&a=2&b=&c&d=x+y%21')), { a: ['1', '2'], b: [''], c: [''], d: ['x y!'] });
  assert.deepEqual(plain(queryArgs('/p')), {});
  assert.deepEqual(plain(queryArgs('/p?__proto__=x')), JSON.parse('{"__proto__": ["x"]}'), 'a key named __proto__ is data, not a prototype');
});

test('application/json bodies are parsed, with or without parameters; invalid JSON stays text', () => {
  assert.deepEqual(parseBody(Buffer.from('{"a": [1, "x"]}'), 'application/json'), { a: [1, 'x'] });
  assert.deepEqual(parseBody(Buffer.from('["r"]'), 'Application/JSON; charset=utf-8'), ['r']);
  assert.equal(parseBody(Buffer.from('{not json'), 'application/json'), '{not json');
  assert.equal(parseBody(undefined, 'application/json'), '');
});

test('url-encoded forms become objects of lists; text and unknown types stay text', () => {
  assert.deepEqual(plain(parseBody(Buffer.from('a=1&a=2&b=x+y'), 'application/x-www-form-urlencoded; charset=UTF-8')), { a: ['1', '2'], b: ['x y'] });
  assert.equal(parseBody(Buffer.from('hola {}'), 'text/plain'), 'hola {}');
  assert.equal(parseBody(Buffer.from('<a/>'), 'application/atom+xml'), '<a/>');
  assert.equal(parseBody(Buffer.from('no type'), undefined), 'no type');
  assert.equal(parseBody(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=iso-8859-1'), 'café');
  assert.equal(parseBody(Buffer.from('x'), 'text/plain; charset=no-such-charset'), 'x');
});

function multipart(boundary: string, parts: { headers: string[]; body: Buffer | string }[]): Buffer {
  const chunks: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

test('multipart fields become lists of strings and files {filename, content_type, data (base64)}', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const body = multipart('XyZ', [
    { headers: ['Content-Disposition: form-data; name="name"'], body: 'Ada' },
    { headers: ['Content-Disposition: form-data; name="name"'], body: 'Grace\r\nHopper' },
    { headers: ['Content-Disposition: form-data; name="upload"; filename="all \\"bytes\\".bin"', 'Content-Type: application/octet-stream'], body: bytes },
    { headers: ['Content-Disposition: form-data; name="notes"; filename="n.txt"'], body: '' },
    { headers: ['Content-Disposition: form-data; name="intl"; filename*=UTF-8\'\'na%C3%AFve.txt', 'Content-Type: text/plain'], body: 'x' },
    { headers: ['Content-Disposition: attachment; name="ignored"'], body: 'skipped: not form-data' },
  ]);
  const parsed = plain(parseBody(body, 'multipart/form-data; boundary="XyZ"')) as Record<string, unknown[]>;
  assert.deepEqual(parsed.name, ['Ada', 'Grace\r\nHopper']);
  assert.deepEqual(parsed.upload, [{ filename: 'all "bytes".bin', content_type: 'application/octet-stream', data: bytes.toString('base64') }]);
  assert.deepEqual(parsed.notes, [{ filename: 'n.txt', content_type: 'application/octet-stream', data: '' }]);
  assert.deepEqual(parsed.intl, [{ filename: 'naïve.txt', content_type: 'text/plain', data: Buffer.from('x').toString('base64') }]);
  assert.equal(parsed.ignored, undefined);
});

test('a multipart body whose file contains the boundary text without CRLF before it stays whole', () => {
  const tricky = Buffer.from('line --B not a delimiter --B');
  const body = multipart('B', [{ headers: ['Content-Disposition: form-data; name="f"; filename="t"'], body: tricky }]);
  const parsed = plain(parseBody(body, 'multipart/form-data; boundary=B')) as Record<string, { data: string }[]>;
  assert.equal(Buffer.from(parsed.f![0]!.data, 'base64').toString(), tricky.toString());
});

test('multipart without a boundary, or truncated, is a 400', () => {
  assert.throws(() => parseBody(Buffer.from('x'), 'multipart/form-data'), (e: unknown) => e instanceof HttpError && e.status === 400);
  const truncated = Buffer.from('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue');
  assert.throws(() => parseBody(truncated, 'multipart/form-data; boundary=B'), (e: unknown) => e instanceof HttpError && e.status === 400);
});

test('REQUEST has exactly body, args, path and headers', () => {
  const r = buildNotebookRequest({ rawHeaders: ['Content-Type', 'application/json'], url: '/people/3?x=1', pathParams: { index: '3' }, body: Buffer.from('{"k": true}') });
  assert.deepEqual(Object.keys(r), ['body', 'args', 'path', 'headers']);
  assert.deepEqual(plain(r), { body: { k: true }, args: { x: ['1'] }, path: { index: '3' }, headers: { 'Content-Type': 'application/json' } });
});
