// /api/kernels and /api/kernels/{id}[/interrupt|/restart]: start, list, inspect, interrupt,
// restart and delete kernels, with the original gateway's status codes and error bodies.
import type { FastifyInstance } from 'fastify';
import { KernelLimitError, NoSuchKernelSpecError, type KernelManager } from '../../kernels/kernel-manager.js';
import { KernelLaunchError, type RunningKernel } from '../../kernels/running-kernel.js';
import { HttpError } from '../../server/http-error.js';
import { jsonBody, refuseOtherMethods } from '../../server/http-app.js';

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
  if (err instanceof HttpError) return err;
  if (err instanceof KernelLimitError) return new HttpError(403, 'Resource Limit');
  if (err instanceof NoSuchKernelSpecError) return new HttpError(500, err.message);
  if (err instanceof KernelLaunchError) return new HttpError(500, err.message);
  return new HttpError(500, (err as Error).message ?? String(err));
}

export function registerKernelRoutes(app: FastifyInstance, kernels: KernelManager, opts: { listKernels: boolean; base: string; startKernel: (req: { name?: string; env?: Record<string, string> }) => Promise<RunningKernel> }): void {
  app.get('/api/kernels', async () => {
    if (!opts.listKernels) throw new HttpError(403, 'Forbidden');
    return kernels.list().map((k) => k.model());
  });

  app.post('/api/kernels', async (req, reply) => {
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

  app.get<{ Params: { id: string } }>('/api/kernels/:id', async (req) => findKernel(kernels, req.params.id).model());

  app.delete<{ Params: { id: string } }>('/api/kernels/:id', async (req, reply) => {
    const kernel = findKernel(kernels, req.params.id);
    await kernels.shutdown(kernel.id);
    return reply.code(204).send();
  });
  refuseOtherMethods(app, '/api/kernels/:id', ['GET', 'DELETE']);

  app.post<{ Params: { id: string } }>('/api/kernels/:id/interrupt', async (req, reply) => {
    await findKernel(kernels, req.params.id).interrupt();
    return reply.code(204).send();
  });
  refuseOtherMethods(app, '/api/kernels/:id/interrupt', ['POST']);

  app.post<{ Params: { id: string } }>('/api/kernels/:id/restart', async (req) => {
    const kernel = findKernel(kernels, req.params.id);
    try {
      await kernel.restart();
    } catch (err) {
      await kernels.shutdown(kernel.id, true);
      throw new HttpError(500, `Kernel ${kernel.id} could not be restarted: ${(err as Error).message}`);
    }
    return kernel.model();
  });
  refuseOtherMethods(app, '/api/kernels/:id/restart', ['POST']);
}
