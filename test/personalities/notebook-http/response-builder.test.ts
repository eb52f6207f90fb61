// Responses built from execution outcomes: errors, stdout, the original's execute_result JSON,
// rich outputs chosen by Accept, and ResponseInfo status and headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionOutcome } from '../../../src/kernels/execute.js';
import { applyResponseInfo, buildCellResponse, negotiate, parseResponseInfo, pythonJsonDumps } from '../../../src/personalities/notebook-http/response-builder.js';
import { ResponseInfoError } from '../../../src/errors.js';

const outcome = (o: Partial<ExecutionOutcome>): ExecutionOutcome => ({ status: 'ok', stdout: '', stderr: '', results: [], ...o });
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

test('a failed cell is a 500 with the original\'s text', () => {
  const r = buildCellResponse(outcome({ status: 'error', stdout: 'partial', error: { ename: 'ValueError', evalue: 'boom', traceback: [] } }), undefined);
  assert.equal(r.status, 500);
  assert.equal(r.body.toString(), 'Error ValueError: boom \n');
  assert.equal(r.headers['Content-Type'], 'text/plain');
});

test('stdout is the body verbatim, stderr never, whatever else was displayed', () => {
  const r = buildCellResponse(outcome({ stdout: 'héllo\n', stderr: 'warning', results: [{ type: 'display_data', data: { 'image/png': PNG.toString('base64') } }] }), 'image/png');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString('utf8'), 'héllo\n');
  assert.equal(r.headers['Content-Type'], 'text/plain');
});

test('no stdout: the execute_result data as Python\'s json.dumps writes it; nothing at all: empty', () => {
  assert.equal(buildCellResponse(outcome({ results: [{ type: 'execute_result', data: { 'text/plain': '2' } }] }), undefined).body.toString(), '{"text/plain": "2"}');
  assert.equal(buildCellResponse(outcome({}), undefined).body.length, 0);
  assert.equal(buildCellResponse(outcome({ results: [{ type: 'display_data', data: { 'text/plain': 'shown' } }] }), undefined).body.length, 0, 'plain display_data is not a body, as in the original');
});

test('pythonJsonDumps matches json.dumps: separators, ASCII escapes, nesting', () => {
  assert.equal(pythonJsonDumps({ a: [1, 'x', null, true], b: { c: 'é😀\u007f"\\\n' } }), '{"a": [1, "x", null, true], "b": {"c": "\\u00e9\\ud83d\\ude00\\u007f\\"\\\\\\n"}}');
});

test('rich outputs: image/png decoded from base64, text/html, application/json', () => {
  const png = buildCellResponse(outcome({ results: [{ type: 'display_data', data: { 'text/plain': '<Image>', 'image/png': PNG.toString('base64') } }] }), undefined);
  assert.equal(png.headers['Content-Type'], 'image/png');
  assert.deepEqual(png.body, PNG);
  const html = buildCellResponse(outcome({ results: [{ type: 'execute_result', data: { 'text/plain': 'x', 'text/html': '<b>x</b>' } }] }), undefined);
  assert.equal(html.headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(html.body.toString(), '<b>x</b>');
  const json = buildCellResponse(outcome({ results: [{ type: 'execute_result', data: { 'text/plain': 'x', 'application/json': { a: [1] } } }] }), undefined);
  assert.equal(json.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(json.body.toString()), { a: [1] });
});

test('Accept picks among several rich types; an Accept that allows none falls back to the original body', () => {
  const data = { 'text/plain': 'x', 'text/html': '<i>x</i>', 'application/json': { x: 1 } };
  const o = outcome({ results: [{ type: 'execute_result', data }] });
  assert.equal(buildCellResponse(o, 'application/json').headers['Content-Type'], 'application/json');
  assert.equal(buildCellResponse(o, 'text/html;q=0.5, application/json;q=0.9').headers['Content-Type'], 'application/json');
  assert.equal(buildCellResponse(o, 'text/*').headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(buildCellResponse(o, '*/*').headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(buildCellResponse(o, 'application/json;q=0, */*;q=0.1').headers['Content-Type'], 'text/html; charset=utf-8');
  const fallback = buildCellResponse(o, 'text/plain');
  assert.equal(fallback.headers['Content-Type'], 'text/plain');
  assert.equal(fallback.body.toString(), '{"text/plain": "x", "text/html": "<i>x</i>", "application/json": {"x": 1}}');
});

test('the latest rich output wins', () => {
  const o = outcome({ results: [{ type: 'display_data', data: { 'text/html': 'first' } }, { type: 'display_data', data: { 'text/html': 'second' } }, { type: 'execute_result', data: { 'text/plain': 'r' } }] });
  assert.equal(buildCellResponse(o, undefined).body.toString(), 'second');
});

test('negotiate: the most specific range sets the quality', () => {
  assert.equal(negotiate('image/*;q=0.2, image/png;q=1, */*;q=0.5', ['text/html', 'image/png']), 'image/png');
  assert.equal(negotiate('image/png;q=0', ['image/png']), undefined);
  assert.equal(negotiate(undefined, ['image/png', 'text/html']), 'image/png');
  assert.equal(negotiate('text/*, image/png;q=0.5', ['image/png', 'text/html']), 'text/html');
  assert.equal(negotiate('TEXT/HTML', ['image/png', 'text/html']), 'text/html');
  assert.equal(negotiate('*/*', ['image/png', 'text/html']), 'image/png');
  assert.equal(negotiate('application/json', ['image/png', 'text/html']), undefined);
});

test('ResponseInfo: printed JSON sets status and headers, replacing our defaults case-insensitively', () => {
  const info = parseResponseInfo(outcome({ stdout: '{"status": 201, "headers": {"content-type": "application/json", "Etag": 1234567890, "Set-Cookie": ["a=1", "b=2"], "Content-Length": "999"}}\n' }));
  const r = applyResponseInfo({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('{}') }, info);
  assert.equal(r.status, 201);
  assert.deepEqual(r.headers, { 'content-type': 'application/json', Etag: '1234567890', 'Set-Cookie': ['a=1', 'b=2'] }, 'Content-Length stays ours');
  assert.equal(applyResponseInfo({ status: 200, headers: {}, body: Buffer.alloc(0) }, parseResponseInfo(outcome({ stdout: '{}' }))).status, 200);
});

test('ResponseInfo: bad output is a clear error', () => {
  for (const stdout of ['', 'not json', '[1]', '{"status": "201"}', '{"status": 42}', '{"headers": []}', '{"headers": {"X": {"a": 1}}}', '{"headers": {"X": "a\\r\\nInjected: 1"}}']) {
    assert.throws(() => parseResponseInfo(outcome({ stdout })), ResponseInfoError, `stdout ${JSON.stringify(stdout)}`);
  }
});

test('ResponseInfo: a header name or value Node would refuse is a ResponseInfoError naming the header', () => {
  const refused = (stdout: string, pattern: RegExp): void => {
    assert.throws(() => parseResponseInfo(outcome({ stdout })), (err: unknown) => err instanceof ResponseInfoError && pattern.test(err.message), stdout);
  };
  refused('{"headers": {"Bad Name": "x"}}', /header name "Bad Name" is not a valid HTTP header name/);
  refused('{"headers": {"": "x"}}', /header name "" is not a valid/);
  refused('{"headers": {"X-Colon:": "x"}}', /header name "X-Colon:"/);
  refused('{"headers": {"X-Snow": "\\u2603"}}', /header "X-Snow" holds a character HTTP headers cannot carry \(printable Latin-1 text only\): "☃"/);
  refused('{"headers": {"X-Split": "a\\r\\nInjected: 1"}}', /header "X-Split" contains a line break/);
  refused('{"headers": {"X-Nul": "a\\u0000b"}}', /header "X-Nul" holds a character/);
  refused('{"headers": {"Set-Cookie": ["a=1", "b=\\u2603"]}}', /header "Set-Cookie" holds a character/);
  const latin1 = parseResponseInfo(outcome({ stdout: '{"headers": {"X-Cafe": "caf\\u00e9", "X-Tab": "a\\tb"}}' }));
  assert.deepEqual(latin1.headers, { 'X-Cafe': 'café', 'X-Tab': 'a\tb' }, 'Latin-1 text and tabs are sendable');
});

test('applyResponseInfo checks headers and status it is given directly too', () => {
  const response = { status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.alloc(0) };
  assert.throws(() => applyResponseInfo(response, { headers: { 'Bad Name': 'x' } }), /ResponseInfo header name "Bad Name"/);
  assert.throws(() => applyResponseInfo(response, { headers: { 'X-Snow': '☃' } }), ResponseInfoError);
  assert.throws(() => applyResponseInfo(response, { headers: { 'X-Many': ['ok', 'a\nb'] } }), /header "X-Many" contains a line break/);
  for (const status of [42, 600, 200.5, Number.NaN]) {
    assert.throws(() => applyResponseInfo(response, { status, headers: {} }), (err: unknown) => err instanceof ResponseInfoError && /100-599/.test(err.message), String(status));
  }
  for (const stdout of ['{"status": 99}', '{"status": 600}', '{"status": 201.5}', '{"status": true}']) {
    assert.throws(() => parseResponseInfo(outcome({ stdout })), ResponseInfoError, stdout);
  }
  assert.equal(applyResponseInfo(response, { status: 599, headers: { 'X-Ok': 'fine' } }).status, 599);
});
