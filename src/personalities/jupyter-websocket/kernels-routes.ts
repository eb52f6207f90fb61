// /api/kernels and /api/kernels/{id}[/interrupt|/restart]: start, list, inspect, interrupt,
// restart and delete kernels, with the original gateway's status codes and error bodies.
// Each route's schema documents it in /api/swagger.json (see swagger.ts).
import type { FastifyInstance } from 'fastify';
import { type KernelManager } from '../../kernels/kernel-manager.js';
import type { RunningKernel } from '../../kernels/running-kernel.js';

import { httpErrorFor } from '../../http/error-response.js';
import { jsonBody } from '../../http/request-body.js';
import { refuseOtherMethods } from '../../http/routes.js';
import { documented, errorResponse, ref, respond, type JsonSchema, type RouteDocs } from '../../http/route-docs.js';
import { KERNEL_ID_PARAMS, KERNEL_MODEL } from '../../kernels/rest-models.js';
import { LOCATION_HEADER } from './swagger.js';
import { KernelLimitError, HttpError } from '../../errors.js';

export const KERNEL_ID_PATTERN = /^\w+-\w+-\w+-\w+-\w+$/;

export function findKernel(kernels: KernelManager, id: string): RunningKernel {
  const kernel = KERNEL_ID_PATTERN.test(id) ? kernels.get(id) : undefined;
  if (!kernel) throw new HttpError(404, `Kernel does not exist: ${id}`);
  return kernel;
}

/** Reads `{name, env}` from a start request, as the original validates it. */
export function parseStartRequest(body: unknown): { name?: string; env?: Record<string, string> } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Request body must be a JSON object');
  const model = body as Record<string, unknown>;
  if (model.name !== undefined && model.name !== null && typeof model.name !== 'string') throw new HttpError(400, 'Kernel name must be a string');
  let env: Record<string, string> | undefined;
  if (model.env !== undefined) {
    if (typeof model.env !== 'object' || model.env === null || Array.isArray(model.env)) throw new HttpError(400, 'env must be a JSON object');
    env = {};
    for (const [k, v] of Object.entries(model.env as Record<string, unknown>)) env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return { name: (model.name as string | undefined) || undefined, env };
}

/** Maps kernel-layer start failures to the original's HTTP answers. */
export function startFailure(err: unknown): HttpError {
  // The original answers max_kernels with this message rather than the manager's.
  if (err instanceof KernelLimitError) return new HttpError(403, 'Resource Limit', undefined, { cause: err });
  // Unknown kernelspecs and failed launches are 500s in the original, with a message.
  return httpErrorFor(err);
}

export const KERNEL_START_BODY: JsonSchema = {
  type: 'object',
  description: 'What kernel to start; an empty body or {} starts the default kernelspec.',
  properties: {
    name: { type: 'string', description: 'The kernelspec name (default: default_kernel_name; force_kernel_name overrides it).' },
    env: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: "Variables for the kernel's environment. Only KERNEL_* variables and those in JupyterWebsocketPersonality.env_whitelist are kept; with an env, the kernel inherits only PATH and env_process_whitelist from the gateway. KERNEL_LAUNCH_TIMEOUT (seconds) may shorten the start timeout.",
    },
  },
};

const NO_KERNEL = errorResponse('No kernel has this id.');

const DOCS = {
  list: {
    summary: 'List the running kernels',
    tags: ['kernels'],
    response: { 200: respond('The running kernels.', { type: 'array', items: ref(KERNEL_MODEL) }), 403: errorResponse('Listing is off: JupyterWebsocketPersonality.list_kernels is False (the default).') },
  },
  start: {
    summary: 'Start a kernel',
    tags: ['kernels'],
    description: 'Starts a kernel and answers once it replies to kernel_info_request (and, with seed_uri, once the seed notebook ran in it). With warm_pool, a start whose env allows it is answered at once with a kernel started (and seeded) ahead of time.',
    body: KERNEL_START_BODY,
    response: {
      201: respond('The new kernel.', ref(KERNEL_MODEL), LOCATION_HEADER),
      400: errorResponse('The body is not valid JSON, or not of the shape above.'),
      403: errorResponse('max_kernels kernels already run or start, warm pool kernels included, and none of those could serve or give way ("Resource Limit").'),
      500: errorResponse('No such kernelspec, or the kernel failed to start or to run the seed notebook.'),
      503: errorResponse('The gateway is out of file descriptors for another kernel ("Out of file descriptors (EMFILE): ..."): end some kernels or raise its open-file limit.'),
    },
  },
  get: {
    summary: 'Get a kernel',
    tags: ['kernels'],
    params: KERNEL_ID_PARAMS,
    response: { 200: respond('The kernel.', ref(KERNEL_MODEL)), 404: NO_KERNEL },
  },
  delete: {
    summary: 'Shut a kernel down',
    tags: ['kernels'],
    params: KERNEL_ID_PARAMS,
    response: { 204: respond('The kernel has ended.'), 404: NO_KERNEL },
  },
  interrupt: {
    summary: 'Interrupt a kernel',
    tags: ['kernels'],
    params: KERNEL_ID_PARAMS,
    response: { 204: respond('The interrupt was sent (a signal, or an interrupt_request per the kernelspec).'), 404: NO_KERNEL },
  },
  restart: {
    summary: 'Restart a kernel',
    tags: ['kernels'],
    description: 'Ends the kernel process and starts a new one under the same id; answers once it replies to kernel_info_request.',
    params: KERNEL_ID_PARAMS,
    response: { 200: respond('The restarted kernel.', ref(KERNEL_MODEL)), 404: NO_KERNEL, 500: errorResponse('The kernel could not be restarted (it is shut down).') },
  },
} satisfies Record<string, RouteDocs>;

export function registerKernelRoutes(app: FastifyInstance, kernels: KernelManager, opts: { listKernels: boolean; base: string; startKernel: (req: { name?: string; env?: Record<string, string> }) => Promise<RunningKernel> }): void {
  app.get('/api/kernels', documented(DOCS.list), async () => {
    if (!opts.listKernels) throw new HttpError(403, 'Forbidden');
    return kernels.list().map((k) => k.model());
  });

  app.post('/api/kernels', documented(DOCS.start), async (req, reply) => {
    const request = parseStartRequest(jsonBody(req));
    let kernel: RunningKernel;
    try {
      kernel = await opts.startKernel(request);
    } catch (err) {
      throw startFailure(err);
    }
    return reply.code(201).header('Location', `${opts.base}/api/kernels/${encodeURIComponent(kernel.id)}`).send(kernel.model());
  });
  refuseOtherMethods(app, '/api/kernels', ['GET', 'POST']);

  app.get<{ Params: { id: string } }>('/api/kernels/:id', documented(DOCS.get), async (req) => findKernel(kernels, req.params.id).model());

  app.delete<{ Params: { id: string } }>('/api/kernels/:id', documented(DOCS.delete), async (req, reply) => {
    const kernel = findKernel(kernels, req.params.id);
    await kernels.shutdown(kernel.id);
    return reply.code(204).send();
  });
  refuseOtherMethods(app, '/api/kernels/:id', ['GET', 'DELETE']);

  app.post<{ Params: { id: string } }>('/api/kernels/:id/interrupt', documented(DOCS.interrupt), async (req, reply) => {
    await findKernel(kernels, req.params.id).interrupt();
    return reply.code(204).send();
  });
  refuseOtherMethods(app, '/api/kernels/:id/interrupt', ['POST']);

  app.post<{ Params: { id: string } }>('/api/kernels/:id/restart', documented(DOCS.restart), async (req) => {
    const kernel = findKernel(kernels, req.params.id);
    try {
      await kernel.restart();
    } catch (err) {
      await kernels.shutdown(kernel.id, true);
      throw new HttpError(500, `Kernel ${kernel.id} could not be restarted: ${(err as Error).message}`, undefined, { cause: err });
    }
    return kernel.model();
  });
  refuseOtherMethods(app, '/api/kernels/:id/restart', ['POST']);
}
