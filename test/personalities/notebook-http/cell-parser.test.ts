// The annotated-cell parser: which cells are endpoints, how same-annotation cells concatenate,
// the routing order of paths, the comment prefix per language, and the Swagger document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnotatedCellParser } from '../../../src/personalities/notebook-http/cell-parser.js';
import { commentPrefixFor } from '../../../src/personalities/notebook-http/index.js';

const parser = new AnnotatedCellParser('#');

test('a first line "# VERB /path" makes an endpoint cell; ResponseInfo cells are told apart', () => {
  assert.ok(parser.isEndpointCell('# GET /yes'));
  assert.ok(parser.isEndpointCell('#   POST   /a/b\nprint(1)'));
  assert.ok(!parser.isEndpointCell('no'));
  assert.ok(!parser.isEndpointCell('x = 1\n# GET /not-first-line'));
  assert.ok(!parser.isEndpointCell('# get /lowercase-verbs-are-comments'));
  assert.ok(!parser.isEndpointCell('# PATCH /not-a-verb-of-the-original'));
  assert.ok(!parser.isEndpointCell('# GET no-slash'));
  assert.ok(!parser.isEndpointCell('# ResponseInfo GET /x'));
  assert.ok(parser.isResponseInfoCell('# ResponseInfo GET /x'));
  assert.ok(!parser.isResponseInfoCell('# GET /x'));
});

test('the annotation path is the rest of the line, trimmed', () => {
  assert.deepEqual(parser.endpointAnnotation('# POST /bar/quo  \nprint(1)'), { verb: 'POST', path: '/bar/quo' });
  assert.equal(parser.endpointAnnotation('some regular code'), undefined);
});

test('cells with the same verb and path concatenate in notebook order, each followed by a newline', () => {
  const endpoints = parser.endpoints(['# POST /foo/:bar', '# POST /foo/:bar', '# POST /foo', 'ignored', '# GET /foo/:bar']);
  assert.equal(endpoints.length, 2);
  const byPath = Object.fromEntries(endpoints.map((e) => [e.path, e.sources]));
  assert.deepEqual(byPath['/foo'], { POST: '# POST /foo\n' });
  assert.deepEqual(byPath['/foo/:bar'], { POST: '# POST /foo/:bar\n# POST /foo/:bar\n', GET: '# GET /foo/:bar\n' });
});

test('ResponseInfo cells attach to their endpoint and concatenate the same way', () => {
  const endpoints = parser.endpoints(['# GET /foo\nprint(1)', '# ResponseInfo GET /foo\na', '# ResponseInfo GET /foo\nb', '# ResponseInfo POST /orphan']);
  assert.equal(endpoints.length, 1, 'a ResponseInfo cell alone is no endpoint');
  assert.deepEqual(endpoints[0]!.responseSources, { GET: '# ResponseInfo GET /foo\na\n# ResponseInfo GET /foo\nb\n' });
});

test('endpoint order: the original\'s (deepest first parameter first, fixed paths first of all)', () => {
  const endpoints = parser.endpoints(['# POST /:foo', '# POST /hello/:foo', '# GET /hello/:foo', '# PUT /hello/world']);
  assert.deepEqual(endpoints.map((e) => e.path), ['/hello/world', '/hello/:foo', '/:foo']);
});

test('endpoint order: a fixed segment beats a parameter at the same depth, whatever the cell order', () => {
  const a = parser.endpoints(['# GET /:a/:b', '# GET /:a/x']).map((e) => e.path);
  const b = parser.endpoints(['# GET /:a/x', '# GET /:a/:b']).map((e) => e.path);
  assert.deepEqual(a, ['/:a/x', '/:a/:b']);
  assert.deepEqual(b, a);
});

test('the comment prefix follows the configured language map', () => {
  const prefixes = { '': '#', scala: '//' };
  assert.equal(commentPrefixFor(prefixes, 'scala'), '//');
  assert.equal(commentPrefixFor(prefixes, 'python'), '#');
  assert.equal(commentPrefixFor(prefixes, undefined), '#');
  assert.equal(commentPrefixFor({ scala: '//' }, 'r'), '#', 'no default entry -> #');
  assert.equal(commentPrefixFor({ '': '%' }, 'octave'), '%');
  const scala = new AnnotatedCellParser('//');
  assert.ok(scala.isEndpointCell('// GET /hello\nprintln("hi")'));
  assert.ok(!scala.isEndpointCell('# GET /hello'));
  assert.ok(scala.isResponseInfoCell('// ResponseInfo GET /hello'));
});

test('a comment prefix with regex characters is matched literally', () => {
  const odd = new AnnotatedCellParser('.*');
  assert.ok(odd.isEndpointCell('.* GET /x'));
  assert.ok(!odd.isEndpointCell('ab GET /x'));
});

test('the Swagger document lists paths and lower-case verbs in cell order, with path parameters', () => {
  const spec = parser.swaggerSpec(['# GET /name', 'x = 1', '# POST /name', '# GET /people/:id', '# ResponseInfo GET /name']);
  assert.deepEqual(spec, {
    swagger: '2.0',
    paths: {
      '/name': { get: { responses: { '200': { description: 'Success' } } }, post: { responses: { '200': { description: 'Success' } } } },
      '/people/{id}': { get: { parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }], responses: { '200': { description: 'Success' } } } },
    },
    info: { version: '0.0.0' },
  });
});
