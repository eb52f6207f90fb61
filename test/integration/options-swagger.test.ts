// /api/swagger.json and /api/swagger.yaml through a real gateway: a valid Swagger 2.0 document
// that covers the original's endpoints, whose every documented operation is served with one
// of its documented status codes, and whose models match the bodies the gateway sends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parse as parseYaml } from 'yaml';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const require = createRequire(import.meta.url);
const SwaggerParser = require('@apidevtools/swagger-parser') as { validate(doc: object): Promise<unknown> };

type Schema = { $ref?: string; type?: string; items?: Schema; properties?: Record<string, Schema>; required?: string[]; additionalProperties?: Schema | boolean };
interface Operation {
  summary: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { description: string; schema?: Schema }>;
}
interface SwaggerDoc {
  swagger: string;
  basePath: string;
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
}

const dirs = jupyterDirs();
let gw: GatewayProcess;
let doc: SwaggerDoc;

before(async () => {
  gw = await startGateway(['--JupyterWebsocketPersonality.list_kernels=True', '--KernelGatewayApp.base_url=/kg'], dirs.env);
  const res = await fetch(`${gw.url}/api/swagger.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  doc = (await res.json()) as SwaggerDoc;
});

after(async () => {
  await gw?.stop();
  dirs.cleanup();
});

test('a valid Swagger 2.0 document; the YAML says the same', async () => {
  await SwaggerParser.validate(structuredClone(doc));
  assert.equal(doc.swagger, '2.0');
  assert.equal(doc.basePath, '/kg');
  const yaml = await fetch(`${gw.url}/api/swagger.yaml`);
  assert.equal(yaml.headers.get('content-type'), 'text/x-yaml');
  assert.deepEqual(parseYaml(await yaml.text()), doc);
});

test("it covers the original's endpoints", () => {
  const expected: [string, string][] = [
    ['/api', 'get'],
    ['/api/swagger.json', 'get'],
    ['/api/swagger.yaml', 'get'],
    ['/api/kernelspecs', 'get'],
    ['/api/kernelspecs/{name}', 'get'],
    ['/kernelspecs/{name}/{file}', 'get'],
    ['/api/kernels', 'get'],
    ['/api/kernels', 'post'],
    ['/api/kernels/{id}', 'get'],
    ['/api/kernels/{id}', 'delete'],
    ['/api/kernels/{id}/interrupt', 'post'],
    ['/api/kernels/{id}/restart', 'post'],
    ['/api/kernels/{id}/channels', 'get'],
    ['/api/sessions', 'get'],
    ['/api/sessions', 'post'],
    ['/api/sessions/{id}', 'get'],
    ['/api/sessions/{id}', 'patch'],
    ['/api/sessions/{id}', 'delete'],
    // The operator's routes (metrics, status, dashboard actions).
    ['/metrics', 'get'],
    ['/api/gateway/status', 'get'],
    ['/api/gateway/events', 'get'],
    ['/api/gateway/kernels/{id}/interrupt', 'post'],
    ['/api/gateway/kernels/{id}/restart', 'post'],
    ['/api/gateway/kernels/{id}', 'delete'],
  ];
  for (const [path, method] of expected) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
  assert.equal(documented.length, expected.length, `no other operations: ${documented.join(', ')}`);
});

/** Checks a body against a schema's required and declared properties (following $refs). */
function conforms(value: unknown, schema: Schema | undefined, where: string): void {
  if (!schema) return;
  if (schema.$ref) return conforms(value, doc.definitions[schema.$ref.replace('#/definitions/', '')], where);
  if (schema.type === 'array') {
    assert.ok(Array.isArray(value), `${where}: an array`);
    (value as unknown[]).forEach((v, i) => conforms(v, schema.items, `${where}[${i}]`));
    return;
  }
  if (schema.type === 'object' && (schema.properties || schema.additionalProperties)) {
    assert.equal(typeof value, 'object', `${where}: an object`);
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) assert.ok(key in obj, `${where}: has ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      assert.ok(prop, `${where}: ${key} is documented`);
      if (v !== null) conforms(v, prop, `${where}.${key}`);
    }
    return;
  }
  if (schema.type === 'string') assert.equal(typeof value, 'string', where);
  if (schema.type === 'integer') assert.ok(Number.isInteger(value), where);
}

test('every documented operation answers with one of its documented statuses and bodies', async () => {
  const state = { kernel: '', session: '' };
  const kernel = await (await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' })).json();
  state.kernel = (kernel as { id: string }).id;
  const calls: [string, string, unknown?][] = [
    ['post', '/api/sessions', { path: 'swagger.ipynb', type: 'notebook', kernel: { id: state.kernel } }],
    ['get', '/api'],
    ['get', '/api/swagger.json'],
    ['get', '/api/kernelspecs'],
    ['get', '/api/kernelspecs/{name}'],
    ['get', '/kernelspecs/{name}/{file}'],
    ['get', '/api/kernels'],
    ['get', '/api/kernels/{id}'],
    ['post', '/api/kernels/{id}/interrupt'],
    ['post', '/api/kernels/{id}/restart'],
    ['get', '/api/kernels/{id}/channels'],
    ['get', '/api/sessions'],
    ['get', '/api/gateway/status'],
    ['get', '/api/sessions/{id}:session'],
    ['patch', '/api/sessions/{id}:session', { name: 'renamed' }],
    ['delete', '/api/sessions/{id}:session'],
    ['post', '/api/kernels', { name: 'no-such-kernelspec' }],
    ['get', '/api/kernels/{id}:unknown'],
    ['delete', '/api/kernels/{id}'],
  ];
  for (const [method, template, body] of calls) {
    const [path, which] = template.split(':') as [string, string | undefined];
    const id = which === 'session' ? state.session : which === 'unknown' ? '00000000-0000-0000-0000-000000000000' : state.kernel;
    const url = path.replace('{id}', id).replace('{name}', 'python3').replace('{file}', 'logo-64x64.png');
    const res = await fetch(`${gw.url}${url}`, { method: method.toUpperCase(), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const op = doc.paths[path]![method]!;
    const documented = op.responses[String(res.status)];
    assert.ok(documented, `${method.toUpperCase()} ${url} answered ${res.status}, documented: ${Object.keys(op.responses).join(', ')}`);
    if (res.headers.get('content-type')?.startsWith('application/json')) {
      const json = await res.json();
      conforms(json, documented.schema, `${method.toUpperCase()} ${url} ${res.status}`);
      if (template === '/api/sessions') state.session = (json as { id: string }).id || state.session;
    } else await res.arrayBuffer();
  }
  assert.ok(state.session, 'a session was created');
});
