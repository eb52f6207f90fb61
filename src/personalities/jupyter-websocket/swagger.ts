// /api/swagger.json and /api/swagger.yaml: a Swagger 2.0 description of the jupyter-websocket
// API (the original's format), built by @fastify/swagger from the `schema` each route declares
// with documented() (src/http/route-docs.ts). The shared models are the ones the code builds its
// answers from (src/kernels/rest-models.ts, src/sessions/session-model.ts); they become the
// document's definitions under their $id.
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import type { FromSchema } from 'json-schema-to-ts';
import { ERROR_MODEL } from '../../http/error-response.js';
import { documented, errorResponse, ref, respond, type RouteDocs } from '../../http/route-docs.js';
import { refuseOtherMethods } from '../../http/routes.js';
import { KERNEL_ID_PARAMS, KERNEL_MODEL, KERNELSPEC_MODEL } from '../../kernels/rest-models.js';
import { SESSION_MODEL } from '../../sessions/session-model.js';

export const API_INFO_MODEL = {
  $id: 'ApiInfo',
  type: 'object',
  description: 'Information about the API.',
  properties: { version: { type: 'string', description: 'The gateway version.' } },
  required: ['version'],
  additionalProperties: false,
} as const;

export type ApiInfo = FromSchema<typeof API_INFO_MODEL>;

const SHARED_MODELS = [ERROR_MODEL, KERNEL_MODEL, KERNELSPEC_MODEL, SESSION_MODEL, API_INFO_MODEL];

export const LOCATION_HEADER = { Location: { type: 'string', format: 'uri', description: 'The URL of the new resource, base_url included.' } };

const TOKEN_HELP = 'Needed only when the gateway runs with KernelGatewayApp.auth_token set.';

const SWAGGER_JSON_DOC: RouteDocs = {
  summary: 'This API description, as Swagger 2.0 JSON',
  tags: ['api'],
  response: { 200: respond('The Swagger 2.0 description of this API.', { type: 'object' }) },
};

const SWAGGER_YAML_DOC: RouteDocs = {
  summary: 'This API description, as Swagger 2.0 YAML',
  tags: ['api'],
  produces: ['text/x-yaml'],
  response: { 200: respond('The Swagger 2.0 description of this API, in YAML.', { type: 'string' }) },
};

/**
 * Describes every documented route registered on `app` after it (await it first in routes(),
 * `app` being the personality's scope under base_url) and serves the description at
 * /api/swagger.json and /api/swagger.yaml.
 */
export async function registerSwaggerRoutes(app: FastifyInstance, info: { version: string; basePath: string }): Promise<void> {
  for (const model of SHARED_MODELS) app.addSchema(model);
  // Awaited: its onRoute hook must be in place before the routes it describes are declared.
  await app.register(fastifySwagger, {
    swagger: {
      info: { title: 'Jupyter Kernel Gateway API', description: 'The jupyter-websocket API of the kernel gateway: kernelspecs, kernels, sessions and the kernel protocol over websockets.', version: info.version },
      basePath: info.basePath || '/',
      produces: ['application/json'],
      consumes: ['application/json'],
      securityDefinitions: {
        tokenHeader: { type: 'apiKey', name: 'Authorization', in: 'header', description: `The header \`Authorization: token <value>\`. ${TOKEN_HELP}` },
        tokenParam: { type: 'apiKey', name: 'token', in: 'query', description: `The query parameter \`?token=<value>\`. ${TOKEN_HELP}` },
      },
      security: [{ tokenHeader: [] }, { tokenParam: [] }],
    },
    hideUntagged: true,
    // Definitions named by their $id (Kernel, Session...), not def-0, def-1.
    refResolver: { buildLocalReference: (json) => String(json.$id) },
    // Fastify's trailing wildcard is the kernelspec resource's file name.
    transform: ({ schema, url }) => ({ schema, url: url.replace(/\/\*$/, '/:file') }),
  });
  app.get('/api/swagger.json', documented(SWAGGER_JSON_DOC), async (_req, reply) => reply.type('application/json').send(JSON.stringify(app.swagger(), null, 2)));
  app.get('/api/swagger.yaml', documented(SWAGGER_YAML_DOC), async (_req, reply) => reply.type('text/x-yaml').send(app.swagger({ yaml: true })));
  refuseOtherMethods(app, '/api/swagger.json', ['GET']);
  refuseOtherMethods(app, '/api/swagger.yaml', ['GET']);
}

// Docs of the two routes index.ts declares itself.
export const API_INFO_DOC: RouteDocs = {
  summary: 'Get API info',
  tags: ['api'],
  response: { 200: respond('The gateway version.', ref(API_INFO_MODEL)) },
};

export const CHANNELS_DOC: RouteDocs = {
  summary: 'Open a websocket to a kernel (the Jupyter kernel protocol)',
  tags: ['channels'],
  description:
    'Upgrades to a websocket carrying the kernel messages of all channels (shell, iopub, stdin, control), as JSON text frames or, when offered, the v1.kernel.websocket.jupyter.org binary subprotocol. Refused with 401 without the token, 403 from another origin.',
  params: KERNEL_ID_PARAMS,
  querystring: { type: 'object', properties: { session_id: { type: 'string', description: "The client's session id (optional)." } } },
  response: {
    101: respond('Switching Protocols: the websocket is open.'),
    400: errorResponse('A plain GET without "Upgrade: websocket".'),
    404: errorResponse('No kernel has this id.'),
  },
};
