// /api/sessions and /api/sessions/{id}: Jupyter Server's session API, kept in memory. Unlike
// the original, name and type are kept, an existing kernel.id is reused, and a session can
// move to another kernel by id or by name. Each route's schema documents it in
// /api/swagger.json (see swagger.ts).
import type { FastifyInstance } from 'fastify';

import { SessionManager, type KernelChoice } from '../../sessions/session-manager.js';

import { httpErrorFor } from '../../http/error-response.js';
import { jsonBody } from '../../http/request-body.js';
import { refuseOtherMethods } from '../../http/routes.js';
import { KERNEL_START_BODY, parseStartRequest, startFailure } from './kernels-routes.js';
import { documented, errorResponse, ref, respond, type JsonSchema, type RouteDocs } from '../../http/route-docs.js';
import { SESSION_MODEL } from '../../sessions/session-model.js';
import { LOCATION_HEADER } from './swagger.js';
import { NoSuchKernelSpecError, SessionNotFoundError, UnknownKernelError, HttpError } from '../../errors.js';

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) throw new HttpError(400, 'No JSON data provided');
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Request body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(model: Record<string, unknown>, key: string): string | undefined {
  const v = model[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `Field ${key} must be a string`);
  return v;
}

function kernelChoice(value: unknown): KernelChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'Field kernel must be an object');
  const k = value as Record<string, unknown>;
  const { name, env } = parseStartRequest({ name: k.name ?? undefined, ...(k.env !== undefined ? { env: k.env } : {}) });
  const id = typeof k.id === 'string' && k.id !== '' ? k.id : undefined;
  return { id, name, env };
}

function sessionFailure(err: unknown, kernelName: string | undefined): HttpError {
  // Their catalogue statuses: 400 and 404.
  if (err instanceof UnknownKernelError || err instanceof SessionNotFoundError) return httpErrorFor(err);
  if (err instanceof NoSuchKernelSpecError) {
    return new HttpError(501, `The '${kernelName ?? ''}' kernel is not available. Please pick another suitable kernel instead, or install that kernel.`);
  }
  return startFailure(err);
}

const SESSION_ID_PARAM: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid', description: 'The session id.' } },
  required: ['id'],
};

const SESSION_BODY: JsonSchema = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'The path the session is for (or notebook.path).' },
    name: { type: 'string', description: 'The session name.' },
    type: { type: 'string', description: "The session type ('notebook', 'console', ...); required." },
    kernel: {
      type: 'object',
      description: 'The kernel: an existing one by id, or a new one by kernelspec name (with an optional env, as for POST /api/kernels).',
      properties: { id: { type: 'string', format: 'uuid' }, ...(KERNEL_START_BODY.properties as object) },
    },
    notebook: { type: 'object', description: 'Older clients: {path, name}.', properties: { path: { type: 'string' }, name: { type: 'string' } } },
  },
};

const NO_SESSION = errorResponse('No session has this id.');

const DOCS = {
  list: {
    summary: 'List the sessions',
    tags: ['sessions'],
    response: { 200: respond('The sessions.', { type: 'array', items: ref(SESSION_MODEL) }), 403: errorResponse('Listing is off: JupyterWebsocketPersonality.list_kernels is False (the default).') },
  },
  create: {
    summary: 'Create a session, or return the session of the same path',
    tags: ['sessions'],
    body: { ...SESSION_BODY, required: ['path', 'type'] },
    response: {
      201: respond('The session, new or existing.', ref(SESSION_MODEL), LOCATION_HEADER),
      400: errorResponse('No or invalid JSON, a missing path or type, or an unknown kernel id.'),
      403: errorResponse('max_kernels kernels already run or start ("Resource Limit").'),
      500: errorResponse('The kernel failed to start.'),
      501: errorResponse('No such kernelspec.'),
      503: errorResponse('The gateway is out of file descriptors for another kernel.'),
    },
  },
  get: {
    summary: 'Get a session',
    tags: ['sessions'],
    params: SESSION_ID_PARAM,
    response: { 200: respond('The session.', ref(SESSION_MODEL)), 404: NO_SESSION },
  },
  update: {
    summary: 'Rename a session, or move it to another kernel',
    tags: ['sessions'],
    params: SESSION_ID_PARAM,
    body: SESSION_BODY,
    response: {
      200: respond('The updated session.', ref(SESSION_MODEL)),
      400: errorResponse('No or invalid JSON, or an unknown kernel id.'),
      404: NO_SESSION,
      501: errorResponse('No such kernelspec.'),
    },
  },
  delete: {
    summary: 'Delete a session and shut its kernel down',
    tags: ['sessions'],
    params: SESSION_ID_PARAM,
    response: { 204: respond('The session and its kernel are gone.'), 404: NO_SESSION },
  },
} satisfies Record<string, RouteDocs>;

export function registerSessionRoutes(app: FastifyInstance, sessions: SessionManager, opts: { listKernels: boolean; base: string; defaultKernelName: () => string }): void {
  const location = (id: string): string => `${opts.base}/api/sessions/${encodeURIComponent(id)}`;

  app.get('/api/sessions', documented(DOCS.list), async () => {
    if (!opts.listKernels) throw new HttpError(403, 'Forbidden');
    await sessions.refresh();
    return sessions.list().map((s) => sessions.model(s));
  });

  app.post('/api/sessions', documented(DOCS.create), async (req, reply) => {
    const model = objectBody(jsonBody(req));
    const notebook = model.notebook as Record<string, unknown> | undefined;
    const path = optionalString(model, 'path') ?? (typeof notebook?.path === 'string' ? notebook.path : undefined);
    if (path === undefined) throw new HttpError(400, 'Missing field in JSON data: path');
    const type = optionalString(model, 'type');
    if (type === undefined) throw new HttpError(400, 'Missing field in JSON data: type');
    const name = optionalString(model, 'name') ?? (typeof notebook?.name === 'string' ? notebook.name : '');
    await sessions.refresh();
    const existing = sessions.findByPath(path);
    if (existing) return reply.code(201).header('Location', location(existing.id)).send(sessions.model(existing));
    const choice = kernelChoice(model.kernel) ?? {};
    let record;
    try {
      record = await sessions.findOrCreate(path, name, type, choice);
    } catch (err) {
      throw sessionFailure(err, choice.name ?? opts.defaultKernelName());
    }
    return reply.code(201).header('Location', location(record.id)).send(sessions.model(record));
  });
  refuseOtherMethods(app, '/api/sessions', ['GET', 'POST']);

  // Replication: what other gateways did to the sessions is read first.
  const find = async (id: string) => {
    await sessions.refresh();
    const record = sessions.get(id);
    if (!record) throw new HttpError(404, `Session not found: ${id}`);
    return record;
  };

  app.get<{ Params: { id: string } }>('/api/sessions/:id', documented(DOCS.get), async (req) => sessions.model(await find(req.params.id)));

  app.patch<{ Params: { id: string } }>('/api/sessions/:id', documented(DOCS.update), async (req) => {
    await find(req.params.id);
    const model = objectBody(jsonBody(req));
    const notebook = model.notebook as Record<string, unknown> | undefined;
    const choice = kernelChoice(model.kernel);
    try {
      const record = await sessions.update(req.params.id, {
        path: optionalString(model, 'path') ?? (typeof notebook?.path === 'string' ? notebook.path : undefined),
        name: optionalString(model, 'name'),
        type: optionalString(model, 'type'),
        kernel: choice && (choice.id || choice.name) ? choice : undefined,
      });
      return sessions.model(record);
    } catch (err) {
      throw sessionFailure(err, choice?.name);
    }
  });

  app.delete<{ Params: { id: string } }>('/api/sessions/:id', documented(DOCS.delete), async (req, reply) => {
    await find(req.params.id);
    await sessions.delete(req.params.id);
    return reply.code(204).send();
  });
  refuseOtherMethods(app, '/api/sessions/:id', ['GET', 'PATCH', 'DELETE']);
}
