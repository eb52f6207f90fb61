// REQUEST as a cell sees it: header names and lists, query arguments, the body by content type
// (JSON, forms, multipart with files, text, charsets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNotebookRequest, headersFromRaw, parseBody, queryArgs, titleCaseHeader } from '../../../src/personalities/notebook-http/request-model.js';
import { MULTIPART_LIMITS } from '../../../src/personalities/notebook-http/multipart-form.js';
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

test('application/json bodies are parsed, with or without parameters; invalid JSON stays text', async () => {
  assert.deepEqual(await parseBody(Buffer.from('{"a": [1, "x"]}'), 'application/json'), { a: [1, 'x'] });
  assert.deepEqual(await parseBody(Buffer.from('["r"]'), 'Application/JSON; charset=utf-8'), ['r']);
  assert.equal(await parseBody(Buffer.from('{not json'), 'application/json'), '{not json');
  assert.equal(await parseBody(undefined, 'application/json'), '');
});

test('url-encoded forms become objects of lists; text and unknown types stay text', async () => {
  assert.deepEqual(plain(await parseBody(Buffer.from('a=1&a=2&b=x+y'), 'application/x-www-form-urlencoded; charset=UTF-8')), { a: ['1', '2'], b: ['x y'] });
  assert.equal(await parseBody(Buffer.from('hola {}'), 'text/plain'), 'hola {}');
  assert.equal(await parseBody(Buffer.from('<a/>'), 'application/atom+xml'), '<a/>');
  assert.equal(await parseBody(Buffer.from('no type'), undefined), 'no type');
  assert.equal(await parseBody(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=iso-8859-1'), 'café');
  assert.equal(await parseBody(Buffer.from('x'), 'text/plain; charset=no-such-charset'), 'x');
  assert.equal(await parseBody(Buffer.from('x'), 'foo'), 'x', 'a Content-Type that is no media type is still read as text');
});

function multipart(boundary: string, parts: { headers: string[]; body: Buffer | string }[]): Buffer {
  const chunks: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const field = (name: string, value: string) => ({ headers: [`Content-Disposition: form-data; name="${name}"`], body: value });

const isHttpError = (status: number, message: RegExp) => (e: unknown) => e instanceof HttpError && e.status === status && message.test(e.message);

test('multipart fields become lists of strings and files {filename, content_type, data (base64)}', async () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const body = multipart('XyZ', [
    field('name', 'Ada'),
    { headers: ['Content-Disposition: form-data; name="upload"; filename="all \\"bytes\\".bin"', 'Content-Type: application/octet-stream'], body: bytes },
    field('name', 'Grace\r\nHopper'),
    { headers: ['Content-Disposition: form-data; name="notes"; filename="n.txt"'], body: '' },
    { headers: ['Content-Disposition: form-data; name="intl"; filename*=UTF-8\'\'na%C3%AFve.txt', 'Content-Type: Text/Plain; charset=utf-8'], body: 'x' },
    { headers: ['Content-Disposition: form-data; name="path"; filename="dir/sub/f.txt"', 'Content-Type: text/plain'], body: 'y' },
    { headers: ['Content-Disposition: form-data; name="utf8"; filename="naïve.txt"', 'Content-Type: text/plain'], body: 'z' },
    { headers: ['Content-Disposition: form-data; name="blank"; filename=""', 'Content-Type: application/octet-stream'], body: '' },
    { headers: ['Content-Disposition: form-data; name="octets"', 'Content-Type: application/octet-stream'], body: 'héllo' },
    { headers: ['Content-Disposition: form-data; name="latin"', 'Content-Type: text/plain; charset=iso-8859-1'], body: Buffer.from([0x63, 0x61, 0x66, 0xe9]) },
    { headers: ['Content-Disposition: attachment; name="ignored"'], body: 'skipped: not form-data' },
    { headers: ['Content-Disposition: form-data'], body: 'skipped: no name' },
    { headers: ['X-Other: 1'], body: 'skipped: no Content-Disposition' },
  ]);
  const parsed = plain(await parseBody(body, 'multipart/form-data; boundary="XyZ"')) as Record<string, unknown[]>;
  assert.deepEqual(parsed.name, ['Ada', 'Grace\r\nHopper']);
  assert.deepEqual(parsed.upload, [{ filename: 'all "bytes".bin', content_type: 'application/octet-stream', data: bytes.toString('base64') }]);
  // A file part that names no type is text/plain (RFC 7578 4.4); types are busboy's type/subtype.
  assert.deepEqual(parsed.notes, [{ filename: 'n.txt', content_type: 'text/plain', data: '' }]);
  assert.deepEqual(parsed.intl, [{ filename: 'naïve.txt', content_type: 'text/plain', data: Buffer.from('x').toString('base64') }]);
  assert.equal((parsed.path![0] as { filename: string }).filename, 'dir/sub/f.txt', 'folders in a filename are kept');
  assert.equal((parsed.utf8![0] as { filename: string }).filename, 'naïve.txt', 'a raw UTF-8 filename (as browsers send it) is read as UTF-8');
  // An empty file input (filename="") and a part without a filename are text fields, as in Tornado.
  assert.deepEqual(parsed.blank, ['']);
  assert.deepEqual(parsed.octets, ['héllo']);
  assert.deepEqual(parsed.latin, ['café']);
  assert.deepEqual(Object.keys(parsed).sort(), ['blank', 'intl', 'latin', 'name', 'notes', 'octets', 'path', 'upload', 'utf8']);
});

test('a multipart body whose file contains the boundary text without CRLF before it stays whole', async () => {
  const tricky = Buffer.from('line --B not a delimiter --B\n--B');
  const body = multipart('B', [{ headers: ['Content-Disposition: form-data; name="f"; filename="t"'], body: tricky }]);
  const parsed = plain(await parseBody(body, 'multipart/form-data; boundary=B')) as Record<string, { data: string }[]>;
  assert.equal(Buffer.from(parsed.f![0]!.data, 'base64').toString(), tricky.toString());
});

test('a boundary that needs quoting, and a field named __proto__, are read as data', async () => {
  const body = multipart('a b;c', [field('__proto__', 'x')]);
  const parsed = (await parseBody(body, 'multipart/form-data; boundary="a b;c"')) as Record<string, string[]>;
  assert.deepEqual(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value, ['x']);
});

test('multipart without a boundary, truncated, without its boundary, or with a malformed part header is a 400', async () => {
  await assert.rejects(parseBody(Buffer.from('x'), 'multipart/form-data'), isHttpError(400, /without a boundary/));
  const truncated = Buffer.from('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue');
  await assert.rejects(parseBody(truncated, 'multipart/form-data; boundary=B'), isHttpError(400, /truncated/));
  const truncatedFile = Buffer.from('--B\r\nContent-Disposition: form-data; name="a"; filename="f"\r\n\r\nbytes');
  await assert.rejects(parseBody(truncatedFile, 'multipart/form-data; boundary=B'), isHttpError(400, /truncated/));
  await assert.rejects(parseBody(Buffer.from('no delimiter at all'), 'multipart/form-data; boundary=B'), isHttpError(400, /does not contain its boundary/));
  await assert.rejects(parseBody(Buffer.alloc(0), 'multipart/form-data; boundary=B'), isHttpError(400, /does not contain its boundary/));
  const badHeader = Buffer.from('--B\r\nno colon in this header line\r\n\r\nv\r\n--B--\r\n');
  await assert.rejects(parseBody(badHeader, 'multipart/form-data; boundary=B'), isHttpError(400, /malformed part header/));
  const hugeHeader = multipart('B', [{ headers: [`Content-Disposition: form-data; name="a"; x="${'h'.repeat(17 * 1024)}"`], body: 'v' }]);
  await assert.rejects(parseBody(hugeHeader, 'multipart/form-data; boundary=B'), isHttpError(400, /malformed part header/));
  await assert.rejects(parseBody(multipart('B', [field('a', '1')]), 'multipart/form-data; boundary="\u00ff\u0100"'), isHttpError(400, /not a valid boundary/));
});

test('multipart limits: parts, fields and field-name length, each named in its error', async () => {
  const { parts, fields, fieldNameBytes } = MULTIPART_LIMITS;
  const ok = await parseBody(multipart('B', Array.from({ length: fields }, (_, i) => field(`f${i}`, 'v'))), 'multipart/form-data; boundary=B');
  assert.equal(Object.keys(ok as object).length, fields, 'exactly the limit is accepted');
  const tooManyFields = multipart('B', Array.from({ length: fields + 1 }, (_, i) => field(`f${i}`, 'v')));
  await assert.rejects(parseBody(tooManyFields, 'multipart/form-data; boundary=B'), isHttpError(413, new RegExp(`more than ${fields} fields`)));
  const file = (i: number) => ({ headers: [`Content-Disposition: form-data; name="u${i}"; filename="f${i}"`], body: 'x' });
  const tooManyParts = multipart('B', [...Array.from({ length: parts }, (_, i) => file(i)), field('last', 'v')]);
  await assert.rejects(parseBody(tooManyParts, 'multipart/form-data; boundary=B'), isHttpError(413, new RegExp(`more than ${parts} parts`)));
  const longName = 'n'.repeat(fieldNameBytes + 1);
  await assert.rejects(parseBody(multipart('B', [field(longName, 'v')]), 'multipart/form-data; boundary=B'), isHttpError(400, new RegExp(`longer than ${fieldNameBytes} bytes`)));
  await assert.rejects(parseBody(multipart('B', [{ headers: [`Content-Disposition: form-data; name="${longName}"; filename="f"`], body: 'x' }]), 'multipart/form-data; boundary=B'), isHttpError(400, /field name is longer/));
  const atLimit = await parseBody(multipart('B', [field('é'.repeat(fieldNameBytes / 2), 'v')]), 'multipart/form-data; boundary=B');
  assert.deepEqual(Object.values(atLimit as object), [['v']], 'a name of exactly the limit in bytes is accepted');
});

test('a field whose charset busboy cannot decode is a 400 that says to send UTF-8', async () => {
  const body = multipart('B', [{ headers: ['Content-Disposition: form-data; name="k"', 'Content-Type: text/plain; charset=koi8-r'], body: Buffer.from([0xc1, 0xc2]) }]);
  await assert.rejects(parseBody(body, 'multipart/form-data; boundary=B'), isHttpError(400, /charset this server cannot decode; send it as UTF-8/));
});

test('REQUEST has exactly body, args, path and headers', async () => {
  const r = await buildNotebookRequest({ rawHeaders: ['Content-Type', 'application/json'], url: '/people/3?x=1', pathParams: { index: '3' }, body: Buffer.from('{"k": true}') });
  assert.deepEqual(Object.keys(r), ['body', 'args', 'path', 'headers']);
  assert.deepEqual(plain(r), { body: { k: true }, args: { x: ['1'] }, path: { index: '3' }, headers: { 'Content-Type': 'application/json' } });
});
