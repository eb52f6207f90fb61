// The Swagger parser: the API document found in a notebook cell, operations implemented by
// `# operationId:` cells, ResponseInfo per operation, parameters as path segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NotebookCell } from '../../../src/kernels/notebook.js';
import { SwaggerCellParser, swaggerletOf } from '../../../src/personalities/notebook-http/swagger-parser.js';

const md = (source: string): NotebookCell => ({ cell_type: 'markdown', source });
const code = (source: string): NotebookCell => ({ cell_type: 'code', source });
const fenced = (doc: unknown): string => '```\n' + JSON.stringify(doc) + '\n```\n';
const sources = (cells: NotebookCell[]): string[] => cells.filter((c) => c.cell_type === 'code').map((c) => String(c.source));

function collectingLog(): { warnings: string[]; log: { debug(): void; info(): void; warn(m: string): void; error(): void } } {
  const warnings: string[] = [];
  return { warnings, log: { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined } };
}

test('a fenced JSON block with a "swagger" key is the API document; other blocks are not', () => {
  assert.ok(swaggerletOf(fenced({ swagger: '2.0', paths: {} })));
  assert.ok(swaggerletOf('Some text\n```json\n{"swagger": "2.0",\n "paths": {}}\n```\nmore'));
  assert.equal(swaggerletOf(fenced({ openapi: '3.0.0' })), undefined);
  assert.equal(swaggerletOf('# GET /x\nprint(1)'), undefined);
});

test('operation cells are found with or without a space after the comment', () => {
  const p = new SwaggerCellParser('#', [md(fenced({ swagger: '2.0', paths: {} }))]);
  assert.ok(p.isEndpointCell('#operationId:foo'));
  assert.ok(p.isEndpointCell('# operationId: foo'));
  assert.ok(!p.isEndpointCell('# another comment'));
  assert.ok(p.isResponseInfoCell('#ResponseInfo operationId:foo'));
  assert.ok(p.isResponseInfoCell('# ResponseInfo  operationId: foo'));
  assert.ok(!p.isResponseInfoCell('# operationId: foo'));
});

test('operations map to paths, parameters become path segments, cells concatenate', () => {
  const cells = [
    md(fenced({ swagger: '2.0', paths: { '/foo': { put: { operationId: 'putFoo', parameters: [{ name: 'bar' }] }, post: { operationId: 'postFooBody' }, get: { operationId: 'getFoo', parameters: [{ name: 'bar' }] } } } })),
    code('# operationId: postFooBody '),
    code('# unrelated comment '),
    code('# operationId: putFoo'),
    code('# operationId: puttFoo'),
    code('# operationId: getFoo'),
    code('# operationId: putFoo'),
  ];
  const p = new SwaggerCellParser('#', cells);
  const endpoints = Object.fromEntries(p.endpoints(sources(cells)).map((e) => [e.path, e.sources]));
  assert.deepEqual(Object.keys(endpoints).sort(), ['/foo', '/foo/:bar']);
  assert.deepEqual(endpoints['/foo'], { POST: '# operationId: postFooBody \n' });
  assert.equal(endpoints['/foo/:bar']!.GET, '# operationId: getFoo\n');
  assert.equal(endpoints['/foo/:bar']!.PUT, '# operationId: putFoo\n# operationId: putFoo\n');
});

test('routing order is the cell parser\'s: /hello/world, /hello/:foo, /:foo', () => {
  const cells = [
    md(fenced({ swagger: '2.0', paths: { '': { post: { operationId: 'postRoot', parameters: [{ name: 'foo' }] } }, '/hello': { post: { operationId: 'postHello', parameters: [{ name: 'foo' }] }, get: { operationId: 'getHello', parameters: [{ name: 'foo' }] } }, '/hello/world': { put: { operationId: 'putWorld' } } } })),
    code('# operationId:putWorld'),
    code('# operationId:getHello'),
    code('# operationId:postHello'),
    code('# operationId:postRoot'),
  ];
  const p = new SwaggerCellParser('#', cells);
  assert.deepEqual(p.endpoints(sources(cells)).map((e) => e.path), ['/hello/world', '/hello/:foo', '/:foo']);
});

test('verbs match whatever their case; {templates} and path parameters route; query parameters do not', () => {
  const cells = [
    md(fenced({ swagger: '2.0', paths: { '/items/{id}': { GET: { operationId: 'getItem', parameters: [{ name: 'id', in: 'path' }, { name: 'verbose', in: 'query' }] } } } })),
    code('# operationId: getItem\nprint(1)'),
    code('# ResponseInfo operationId: getItem\nprint("{}")'),
  ];
  const p = new SwaggerCellParser('#', cells);
  const [endpoint] = p.endpoints(sources(cells));
  assert.equal(endpoint!.path, '/items/:id');
  assert.ok(endpoint!.sources.GET);
  assert.equal(endpoint!.responseSources.GET, '# ResponseInfo operationId: getItem\nprint("{}")\n');
  const spec = p.swaggerSpec();
  assert.ok(spec.paths!['/items/{id}']!.get, 'served with the lower-case verb');
  assert.equal(spec.paths!['/items/{id}']!.GET, undefined);
});

test('operations declared but not implemented, and the reverse, are warned about', () => {
  const { warnings, log } = collectingLog();
  new SwaggerCellParser('#', [
    code('# operationId: extraOperation'),
    md(fenced({ swagger: '2.0', paths: { '/foo': { post: { operationId: 'postbar' }, get: { operationId: 'get' } } } })),
    code('# operationId: get'),
  ], log);
  assert.ok(warnings.some((w) => w.includes('extraOperation') && w.includes('not declared')));
  assert.ok(warnings.some((w) => w.includes('postbar') && w.includes('not referenced')));
});

test('the served document is the notebook\'s own; without one, an empty Swagger 2.0 document', () => {
  const doc = { swagger: '2.0', info: { title: 'Mine', version: '1.2' }, paths: { '/a': { get: { operationId: 'a', summary: 'A' } } } };
  const p = new SwaggerCellParser('#', [md(fenced(doc)), code('# operationId: a')]);
  assert.deepEqual(p.swaggerSpec(), doc);
  const { warnings, log } = collectingLog();
  const empty = new SwaggerCellParser('#', [code('# operationId: a')], log);
  assert.deepEqual(empty.swaggerSpec(), { swagger: '2.0', paths: {}, info: { version: '0.0.0' } });
  assert.deepEqual(empty.endpoints(['# operationId: a']), []);
  assert.ok(warnings.some((w) => w.includes('No Swagger documentation')));
});
