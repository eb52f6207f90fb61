// Content-Type headers as parseMediaType reads them (through the content-type package): case,
// quoting, and lenience towards headers that are not well-formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText, parseMediaType } from '../../../src/personalities/notebook-http/content-type.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

test('media types and parameter names are lower-cased; quoted values unquoted', () => {
  assert.deepEqual(plain(parseMediaType('Application/JSON; CharSet=UTF-8')), { type: 'application/json', params: { charset: 'UTF-8' } });
  assert.deepEqual(plain(parseMediaType('multipart/form-data; boundary="a \\"b\\" c"')), { type: 'multipart/form-data', params: { boundary: 'a "b" c' } });
  assert.equal(parseMediaType('multipart/form-data; boundary="a;b"')!.params.boundary, 'a;b', 'a quoted value may hold a semicolon');
  assert.deepEqual(plain(parseMediaType(' text/plain ; charset = latin1 ')), { type: 'text/plain', params: { charset: 'latin1' } });
});

test('no header or a blank one is no media type; malformed headers are read leniently, never refused', () => {
  assert.equal(parseMediaType(undefined), undefined);
  assert.equal(parseMediaType('  '), undefined);
  assert.deepEqual(plain(parseMediaType('foo')), { type: 'foo', params: {} });
  assert.deepEqual(plain(parseMediaType('text/html;')), { type: 'text/html', params: {} });
  assert.deepEqual(plain(parseMediaType('text/plain; charset; ; x=1')), { type: 'text/plain', params: { x: '1' } });
  assert.deepEqual(plain(parseMediaType('a/b; x="unterminated')), { type: 'a/b', params: {} });
  assert.equal(parseMediaType('text/plain; __proto__=x')!.params.__proto__, 'x', 'a parameter named __proto__ is data');
});

test('text is decoded in the named charset, UTF-8 when none or an unknown one is named', () => {
  assert.equal(decodeText(Buffer.from('héllo')), 'héllo');
  assert.equal(decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'ISO-8859-1'), 'café');
  assert.equal(decodeText(Buffer.from([0xc1, 0xc2]), 'koi8-r'), 'аб');
  assert.equal(decodeText(Buffer.from('x'), 'no-such-charset'), 'x');
});
