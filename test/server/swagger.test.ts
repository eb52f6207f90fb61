// The API document (@fastify/swagger as registerSwaggerRoutes sets it up) on a bare Fastify app:
// routes with documented() schemas are described (paths below the prefix, {params}, shared
// models as definitions under their $id), undocumented ones are not, and the schemas change no
// behaviour (no validation of bodies, no filtering of responses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { documented, errorResponse, ref, respond } from '../../src/http/route-docs.js';
import { KERNEL_MODEL } from '../../src/kernels/rest-models.js';
import { registerSwaggerRoutes } from '../../src/personalities/jupyter-websocket/swagger.js';

async function appWithDocs() {
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(
    async (scoped) => {
      await registerSwaggerRoutes(scoped, { version: '9.9.9', basePath: '/pre' });
      scoped.post(
        '/api/things/:id',
        documented({
          summary: 'Make a thing',
          tags: ['things'],
          params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
          body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
          response: { 201: respond('Made.', ref(KERNEL_MODEL)), 400: errorResponse('Bad.') },
        }),
        async (req, reply) => reply.code(201).send({ id: (req.params as { id: string }).id, extra: 'kept', bodyWas: Buffer.isBuffer(req.body) ? 'raw' : typeof req.body }),
      );
      scoped.get('/api/undocumented', async () => ({ ok: true }));
    },
    { prefix: '/pre' },
  );
  return app;
}

test('documented routes are described below the prefix, with params, body and model definitions', async () => {
  const app = await appWithDocs();
  const doc = (await app.inject({ url: '/pre/api/swagger.json' })).json();
  assert.equal(doc.basePath, '/pre');
  assert.equal(doc.info.version, '9.9.9');
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/api/swagger.json', '/api/swagger.yaml', '/api/things/{id}']);
  const op = doc.paths['/api/things/{id}'].post;
  assert.equal(op.summary, 'Make a thing');
  assert.deepEqual(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), ['body:body', 'path:id']);
  assert.deepEqual(op.responses['201'], { description: 'Made.', schema: { $ref: '#/definitions/Kernel' } });
  assert.deepEqual(op.responses['400'].schema, { $ref: '#/definitions/Error' });
  assert.ok(doc.definitions.Kernel.properties.last_activity);
  await app.close();
});

test('schemas neither validate requests nor filter responses', async () => {
  const app = await appWithDocs();
  const res = await app.inject({ method: 'POST', url: '/pre/api/things/a1', payload: '{not json at all', headers: { 'content-type': 'text/plain' } });
  assert.equal(res.statusCode, 201, 'a body the schema would refuse reaches the handler');
  assert.deepEqual(res.json(), { id: 'a1', extra: 'kept', bodyWas: 'raw' }, 'fields outside the response schema are kept');
  await app.close();
});
