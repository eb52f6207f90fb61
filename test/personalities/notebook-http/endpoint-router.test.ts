// Request routing: which endpoint answers a path and verb, 404 versus 405, and how parameter
// values are decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnotatedCellParser } from '../../../src/personalities/notebook-http/cell-parser.js';
import { EndpointRouter } from '../../../src/personalities/notebook-http/endpoint-router.js';

const router = (cells: string[]): EndpointRouter => new EndpointRouter(new AnnotatedCellParser('#').endpoints(cells));

test('fixed paths win over parameters whatever the cell order', () => {
  const r = router(['# GET /hello/:name\nA', '# GET /hello/world\nB']);
  const fixed = r.match('GET', '/hello/world');
  assert.equal(fixed.kind === 'endpoint' && fixed.endpoint.path, '/hello/world');
  const param = r.match('GET', '/hello/bob');
  assert.ok(param.kind === 'endpoint');
  assert.equal(param.endpoint.path, '/hello/:name');
  assert.deepEqual({ ...param.params }, { name: 'bob' });
});

test('the deeper first parameter wins, as in the original', () => {
  const r = router(['# GET /:a/b/c', '# GET /x/:b/c']);
  const m = r.match('GET', '/x/b/c');
  assert.equal(m.kind === 'endpoint' && m.endpoint.path, '/x/:b/c');
});

test('unknown paths are 404; a known path with another verb is 405 with the allowed verbs', () => {
  const r = router(['# GET /message\nA', '# PUT /message\nB']);
  assert.equal(r.match('GET', '/not/an/endpoint').kind, 'not-found');
  const m = r.match('DELETE', '/message');
  assert.equal(m.kind, 'method-not-allowed');
  assert.deepEqual(m.kind === 'method-not-allowed' && m.allowed.sort(), ['GET', 'PUT']);
  assert.equal(r.match('HEAD', '/message').kind, 'method-not-allowed', 'HEAD never runs a cell');
  assert.equal(r.match('get', '/message').kind, 'method-not-allowed', 'methods are upper-case on the wire');
});

test('a verb missing on the first matching path is looked for on the next one', () => {
  const r = router(['# GET /items/:name\nA', '# POST /items/:id\nB']);
  const m = r.match('POST', '/items/7');
  assert.ok(m.kind === 'endpoint');
  assert.equal(m.endpoint.path, '/items/:id');
  assert.deepEqual({ ...m.params }, { id: '7' });
});

test('parameter values are percent-decoded after the path is split, so %2F stays in the value', () => {
  const r = router(['# GET /files/:name\nA', '# GET /a b\nB']);
  const m = r.match('GET', '/files/a%2Fb%20c+d');
  assert.ok(m.kind === 'endpoint');
  assert.equal(m.params.name, 'a/b c+d');
  assert.equal(r.match('GET', '/files/a/b').kind, 'not-found');
  assert.equal(r.match('GET', '/a%20b').kind, 'endpoint');
  const bad = r.match('GET', '/files/%E0%A4%A');
  assert.equal(bad.kind === 'endpoint' && bad.params.name, '%E0%A4%A', 'a malformed escape stays as sent');
});

test('trailing and repeated slashes do not change the match; the root path can be an endpoint', () => {
  const r = router(['# GET /hello\nA', '# GET /\nB']);
  assert.equal(r.match('GET', '/hello/').kind, 'endpoint');
  assert.equal(r.match('GET', '//hello').kind, 'endpoint');
  const root = r.match('GET', '/');
  assert.equal(root.kind === 'endpoint' && root.endpoint.path, '/');
});
