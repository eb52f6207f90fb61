// /api/swagger.json and /api/swagger.yaml: a Swagger 2.0 description of the jupyter-websocket
// API (the original's format), generated from the Fastify `schema` each route declares. The
// schemas document; they do not validate or serialize: the handlers check input themselves
// with the original's status codes and messages (`documented()` keeps Fastify's validator
// and serializer out of it), and responses are written as the handlers build them.
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { stringify as toYaml } from 'yaml';
import { refuseOtherMethods } from '../../http/routes.js';

/** A JSON Schema node; shared models carry an `$id` and become Swagger definitions. */
export type JsonSchema = { [keyword: string]: unknown };

/** A route's documentation, in the keys @fastify/swagger also reads. */
export interface RouteSchema extends FastifySchema {
  summary: string;
  description?: string;
  tags: string[];
  produces?: string[];
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  /** Status code -> `{description, headers?, ...JSON Schema of the body}`. */
  response: Record<string, JsonSchema & { description: string; headers?: Record<string, JsonSchema> }>;
}

const acceptAnything = (): (() => boolean) => () => true;
const plainJson = (): ((data: unknown) => string) => (data) => JSON.stringify(data);

/** Route options carrying a schema for the docs only (see the header comment). */
export function documented(schema: RouteSchema): Pick<RouteOptions, 'schema' | 'validatorCompiler' | 'serializerCompiler'> {
  return { schema, validatorCompiler: acceptAnything, serializerCompiler: plainJson };
}

// Shared models -------------------------------------------------------------------------------

export const ERROR_MODEL: JsonSchema = {
  $id: 'Error',
  type: 'object',
  description: 'An error response, as every failing request gets it.',
  properties: {
    reason: { type: 'string', description: 'The HTTP reason phrase, e.g. "Not Found".' },
    message: { type: 'string', description: 'What went wrong; may be empty.' },
  },
  required: ['reason', 'message'],
};

export const KERNEL_MODEL: JsonSchema = {
  $id: 'Kernel',
  type: 'object',
  description: 'A running kernel.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The kernel id.' },
    name: { type: 'string', description: 'The kernelspec name the kernel was started from.' },
    last_activity: { type: 'string', format: 'date-time', description: 'ISO 8601 UTC timestamp (with a trailing Z) of the last message from or to the kernel.' },
    execution_state: { type: 'string', description: "The kernel's state: 'starting', 'idle', 'busy', 'restarting' or 'dead'." },
    connections: { type: 'integer', description: 'The number of websockets open on the kernel.' },
  },
  required: ['id', 'name', 'last_activity', 'execution_state', 'connections'],
};

export const KERNELSPEC_MODEL: JsonSchema = {
  $id: 'KernelSpec',
  type: 'object',
  description: 'An installed kernelspec.',
  properties: {
    name: { type: 'string', description: 'The kernelspec name (its directory name).' },
    spec: {
      type: 'object',
      description: 'The contents of its kernel.json.',
      properties: {
        argv: { type: 'array', items: { type: 'string' }, description: 'The command line that starts the kernel; {connection_file} is replaced by the connection file path.' },
        env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Environment variables set for the kernel.' },
        display_name: { type: 'string', description: 'The name shown to users.' },
        language: { type: 'string', description: 'The programming language the kernel runs.' },
        interrupt_mode: { type: 'string', enum: ['signal', 'message'], description: 'How the kernel is interrupted.' },
        metadata: { type: 'object', description: 'Free-form metadata of the kernelspec.' },
      },
      required: ['argv', 'display_name', 'language'],
    },
    resources: {
      type: 'object',
      additionalProperties: { type: 'string', description: 'URL of the file, under /kernelspecs/{name}/.' },
      description: 'Resource files of the kernelspec (logo-32x32, logo-64x64, kernel.js, ...) and their URLs.',
    },
  },
  required: ['name', 'spec', 'resources'],
};

export const SESSION_MODEL: JsonSchema = {
  $id: 'Session',
  type: 'object',
  description: 'A session: a path (e.g. a notebook) bound to a kernel.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The session id.' },
    path: { type: 'string', description: 'The path the session is for.' },
    name: { type: 'string', description: 'The session name.' },
    type: { type: 'string', description: "The session type, e.g. 'notebook' or 'console'." },
    kernel: { $ref: 'Kernel', description: 'The kernel of the session (null when it has ended).', 'x-nullable': true },
    notebook: { type: 'object', description: 'Jupyter Server 5 compatibility: {path, name}.', properties: { path: { type: 'string' }, name: { type: 'string' } } },
  },
  required: ['id', 'path', 'name', 'type', 'kernel', 'notebook'],
};

export const API_INFO_MODEL: JsonSchema = {
  $id: 'ApiInfo',
  type: 'object',
  description: 'Information about the API.',
  properties: { version: { type: 'string', description: 'The gateway version.' } },
  required: ['version'],
};

const MODELS = [ERROR_MODEL, KERNEL_MODEL, KERNELSPEC_MODEL, SESSION_MODEL, API_INFO_MODEL];

/** An error response of the given meaning. */
export function errorResponse(description: string): JsonSchema & { description: string } {
  return { description, $ref: 'Error' };
}

export const LOCATION_HEADER = { Location: { type: 'string', format: 'uri', description: 'The URL of the new resource, base_url included.' } };

// The document -------------------------------------------------------------------------------

interface RecordedRoute {
  method: string;
  path: string;
  schema: RouteSchema;
}

/** Fastify's `/a/:id/*` -> Swagger's `/a/{id}/{file}`. */
function swaggerPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{file}');
}

/** Copies a schema, turning `$ref: 'Name'` and nested `$id` models into Swagger references. */
function toSwagger(node: unknown, definitions: Record<string, unknown>, top = false): unknown {
  if (Array.isArray(node)) return node.map((n) => toSwagger(n, definitions));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as JsonSchema;
  if (typeof obj.$id === 'string' && !top) {
    definitions[obj.$id] ??= toSwagger(obj, definitions, true);
    return { $ref: `#/definitions/${obj.$id}` };
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === '$id') continue;
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) out.$ref = `#/definitions/${v}`;
    else out[k] = toSwagger(v, definitions);
  }
  // Swagger 2.0 forbids siblings of $ref (description, x-nullable are kept only where allowed).
  if (out.$ref && Object.keys(out).some((k) => k !== '$ref' && k !== 'description' && !k.startsWith('x-'))) return { $ref: out.$ref };
  return out;
}

function parameters(schema: RouteSchema, definitions: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const [where, source] of [['path', schema.params], ['query', schema.querystring]] as const) {
    const props = (source?.properties ?? {}) as Record<string, JsonSchema>;
    const required = (source?.required ?? []) as string[];
    for (const [name, prop] of Object.entries(props)) {
      out.push({ name: name === '*' ? 'file' : name, in: where, required: where === 'path' || required.includes(name), ...(toSwagger(prop, definitions) as object) });
    }
  }
  if (schema.body) out.push({ name: 'body', in: 'body', required: false, schema: toSwagger(schema.body, definitions) });
  return out;
}

function operation(schema: RouteSchema, definitions: Record<string, unknown>): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [code, res] of Object.entries(schema.response)) {
    const { description, headers, ...body } = res;
    const entry: Record<string, unknown> = { description };
    if (Object.keys(body).length > 0) entry.schema = toSwagger(body, definitions);
    if (headers) entry.headers = headers;
    responses[code] = entry;
  }
  const op: Record<string, unknown> = { summary: schema.summary, tags: schema.tags };
  if (schema.description) op.description = schema.description;
  if (schema.produces) op.produces = schema.produces;
  const params = parameters(schema, definitions);
  if (params.length) op.parameters = params;
  op.responses = responses;
  return op;
}

export class ApiDocument {
  private readonly routes: RecordedRoute[] = [];
  private built?: Record<string, unknown>;

  constructor(private readonly info: { version: string; basePath: string }) {}

  /** An onRoute hook: every route registered with a `documented()` schema is described. */
  record(route: RouteOptions & { prefix?: string }): void {
    const schema = route.schema as RouteSchema | undefined;
    if (!schema?.summary) return; // the 405 answerers and other undocumented helpers
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const prefix = route.prefix ?? '';
    const path = route.url.startsWith(prefix) ? route.url.slice(prefix.length) || '/' : route.url;
    for (const method of methods) this.routes.push({ method: method.toLowerCase(), path: swaggerPath(path), schema });
    this.built = undefined;
  }

  toJSON(): Record<string, unknown> {
    if (this.built) return this.built;
    const definitions: Record<string, unknown> = {};
    for (const model of MODELS) definitions[model.$id as string] = toSwagger(model, definitions, true);
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of [...this.routes].sort((a, b) => a.path.localeCompare(b.path))) {
      (paths[r.path] ??= {})[r.method] = operation(r.schema, definitions);
    }
    const tokenHelp = 'Needed only when the gateway runs with KernelGatewayApp.auth_token set.';
    this.built = {
      swagger: '2.0',
      info: { title: 'Jupyter Kernel Gateway API', description: 'The jupyter-websocket API of the kernel gateway: kernelspecs, kernels, sessions and the kernel protocol over websockets.', version: this.info.version },
      basePath: this.info.basePath || '/',
      produces: ['application/json'],
      consumes: ['application/json'],
      securityDefinitions: {
        tokenHeader: { type: 'apiKey', name: 'Authorization', in: 'header', description: `The header \`Authorization: token <value>\`. ${tokenHelp}` },
        tokenParam: { type: 'apiKey', name: 'token', in: 'query', description: `The query parameter \`?token=<value>\`. ${tokenHelp}` },
      },
      security: [{ tokenHeader: [] }, { tokenParam: [] }],
      paths,
      definitions,
    };
    return this.built;
  }
}

const SWAGGER_JSON_DOC: RouteSchema = {
  summary: 'This API description, as Swagger 2.0 JSON',
  tags: ['api'],
  response: { 200: { description: 'The Swagger 2.0 description of this API.', type: 'object' } },
};

const SWAGGER_YAML_DOC: RouteSchema = {
  summary: 'This API description, as Swagger 2.0 YAML',
  tags: ['api'],
  produces: ['text/x-yaml'],
  response: { 200: { description: 'The Swagger 2.0 description of this API, in YAML.', type: 'string' } },
};

/**
 * Starts recording the routes registered after it on `app` (call it first in routes()) and
 * serves the description at /api/swagger.json and /api/swagger.yaml.
 */
export function registerSwaggerRoutes(app: FastifyInstance, info: { version: string; basePath: string }): ApiDocument {
  const doc = new ApiDocument(info);
  app.addHook('onRoute', (route) => doc.record(route));
  app.get('/api/swagger.json', documented(SWAGGER_JSON_DOC), async (_req, reply) => reply.type('application/json').send(JSON.stringify(doc.toJSON(), null, 2)));
  let yaml: string | undefined;
  app.get('/api/swagger.yaml', documented(SWAGGER_YAML_DOC), async (_req, reply) => {
    yaml ??= toYaml(doc.toJSON(), { aliasDuplicateObjects: false });
    return reply.type('text/x-yaml').send(yaml);
  });
  refuseOtherMethods(app, '/api/swagger.json', ['GET']);
  refuseOtherMethods(app, '/api/swagger.yaml', ['GET']);
  return doc;
}

// Docs of the two routes index.ts declares itself.
export const API_INFO_DOC: RouteSchema = {
  summary: 'Get API info',
  tags: ['api'],
  response: { 200: { ...API_INFO_MODEL, description: 'The gateway version.' } },
};

export const CHANNELS_DOC: RouteSchema = {
  summary: 'Open a websocket to a kernel (the Jupyter kernel protocol)',
  tags: ['channels'],
  description:
    'Upgrades to a websocket carrying the kernel messages of all channels (shell, iopub, stdin, control), as JSON text frames or, when offered, the v1.kernel.websocket.jupyter.org binary subprotocol. Refused with 401 without the token, 403 from another origin.',
  params: { type: 'object', properties: { id: { type: 'string', format: 'uuid', description: 'The kernel id.' } }, required: ['id'] },
  querystring: { type: 'object', properties: { session_id: { type: 'string', description: "The client's session id (optional)." } } },
  response: {
    101: { description: 'Switching Protocols: the websocket is open.' },
    400: errorResponse('A plain GET without "Upgrade: websocket".'),
    404: errorResponse('No kernel has this id.'),
  },
};
