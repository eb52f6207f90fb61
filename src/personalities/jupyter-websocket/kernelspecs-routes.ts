// /api/kernelspecs, /api/kernelspecs/{name} and /kernelspecs/{name}/{file}: Jupyter Server's
// kernelspec models, with resource URLs under base_url. Each route's schema documents it in
// /api/swagger.json (see swagger.ts).
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { KernelSpecEntry, KernelSpecManager } from '../../kernels/kernelspecs.js';
import { contentTypeFor } from '../../http/content-types.js';

import { refuseOtherMethods } from '../../http/routes.js';
import { documented, errorResponse, ref, respond, type RouteDocs } from '../../http/route-docs.js';
import { KERNELSPEC_MODEL, type KernelSpecModel } from '../../kernels/rest-models.js';
import { HttpError } from '../../errors.js';

export function kernelspecModel(specs: KernelSpecManager, entry: KernelSpecEntry, base: string): KernelSpecModel {
  const resources: Record<string, string> = {};
  for (const file of specs.resources(entry)) {
    const key = file.startsWith('logo-') ? file.slice(0, file.length - extname(file).length) : file;
    resources[key] = `${base}/kernelspecs/${encodeURIComponent(entry.name)}/${encodeURIComponent(file)}`;
  }
  const s = entry.spec;
  return {
    name: entry.name,
    spec: { argv: s.argv, env: s.env, display_name: s.display_name, language: s.language, interrupt_mode: s.interrupt_mode, metadata: s.metadata },
    resources,
  };
}

const NAME_PARAM = { type: 'object', properties: { name: { type: 'string', description: 'The kernelspec name.' } }, required: ['name'] };

const DOCS = {
  list: {
    summary: 'List the installed kernelspecs',
    tags: ['kernelspecs'],
    response: {
      200: respond('The kernelspecs new kernels can be started from, and the default one.', {
        type: 'object',
        properties: {
          default: { type: 'string', description: 'The kernelspec used when a request names none.' },
          kernelspecs: { type: 'object', additionalProperties: ref(KERNELSPEC_MODEL) },
        },
        required: ['default', 'kernelspecs'],
      }),
    },
  },
  get: {
    summary: 'Get a kernelspec',
    tags: ['kernelspecs'],
    params: NAME_PARAM,
    response: { 200: respond('The kernelspec.', ref(KERNELSPEC_MODEL)), 404: errorResponse('No kernelspec has this name.') },
  },
  resource: {
    summary: 'Get a resource file of a kernelspec (logo, kernel.js, ...)',
    tags: ['kernelspecs'],
    produces: ['image/png', 'image/svg+xml', 'application/javascript', 'text/css', 'application/octet-stream'],
    params: {
      type: 'object',
      // The route's trailing wildcard, named in the document as its path template names it.
      properties: { name: NAME_PARAM.properties.name, file: { type: 'string', description: 'The file name inside the kernelspec directory.' } },
      required: ['name', 'file'],
    },
    response: { 200: respond('The file, with a content type by its extension.', { type: 'file' }), 404: errorResponse('No such kernelspec or file.') },
  },
} satisfies Record<string, RouteDocs>;

export function registerKernelspecRoutes(app: FastifyInstance, specs: KernelSpecManager, defaultName: () => string, base: string): void {
  app.get('/api/kernelspecs', documented(DOCS.list), async () => {
    const kernelspecs: Record<string, KernelSpecModel> = {};
    for (const entry of specs.findAll().values()) kernelspecs[entry.name] = kernelspecModel(specs, entry, base);
    return { default: defaultName(), kernelspecs };
  });
  refuseOtherMethods(app, '/api/kernelspecs', ['GET']);

  app.get<{ Params: { name: string } }>('/api/kernelspecs/:name', documented(DOCS.get), async (req) => {
    const entry = specs.get(req.params.name);
    if (!entry) throw new HttpError(404, `Kernel spec ${req.params.name} not found`);
    return kernelspecModel(specs, entry, base);
  });
  refuseOtherMethods(app, '/api/kernelspecs/:name', ['GET']);

  app.get<{ Params: { name: string; '*': string } }>('/kernelspecs/:name/*', documented(DOCS.resource), async (req, reply) => {
    const file = req.params['*'];
    const path = specs.resourcePath(req.params.name, file);
    if (!path) throw new HttpError(404, `Kernel spec resource ${req.params.name}/${file} not found`);
    return reply.type(contentTypeFor(path)).send(createReadStream(path));
  });
}
