// The operator's routes, in every personality and behind the same token as the rest:
// /metrics (Prometheus text; authenticate_prometheus=False opens it), /api/gateway/status (the
// JSON behind the dashboard), /api/gateway/events (the same, live, as server-sent events),
// per-kernel interrupt / restart / shut down, and the /dashboard page itself.
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { KernelManager } from '../../kernels/kernel-manager.js';
import { registry as eventRegistry } from '../../observability/metrics.js';

import { dashboardHtml } from './dashboard/page.js';
import type { GatewayStatusBoard } from './gateway-status.js';
import { documented, errorResponse, ref, respond } from '../../http/route-docs.js';
import { KERNEL_ID_PARAMS, KERNEL_MODEL } from '../../kernels/rest-models.js';
import { STATUS_MODEL } from './status-model.js';
import { HttpError } from '../../errors.js';

/** How often an idle event stream gets a comment, so proxies do not drop it. */
const SSE_HEARTBEAT_MS = 15_000;

const NO_KERNEL = errorResponse('No kernel has this id.');

export interface OperatorRoutesOptions {
  kernels: KernelManager;
  board: GatewayStatusBoard;
  base: string;
  version: string;
}

/** Gauges read from the live kernels at scrape time, with Jupyter Server's series name kept. */
function liveGauges(kernels: KernelManager): Registry {
  const live = new Registry();
  new Gauge({
    name: 'kernel_currently_running_total',
    help: 'Kernels running, by kernelspec (Jupyter Server name)',
    labelNames: ['type'],
    registers: [live],
    collect() {
      this.reset();
      for (const k of kernels.list()) this.inc({ type: k.name });
    },
  });
  new Gauge({
    name: 'kernel_gateway_kernels',
    help: 'Kernels running, by kernelspec and execution state',
    labelNames: ['kernelspec', 'execution_state'],
    registers: [live],
    collect() {
      this.reset();
      for (const k of kernels.list()) this.inc({ kernelspec: k.name, execution_state: k.executionState });
    },
  });
  new Gauge({
    name: 'kernel_gateway_warm_pool_size',
    help: 'Ready kernels in the warm pool, by kernelspec',
    labelNames: ['kernelspec'],
    registers: [live],
    collect() {
      this.reset();
      for (const p of kernels.warmPoolStatus()) this.set({ kernelspec: p.kernelspec }, p.ready.length);
    },
  });
  new Gauge({
    name: 'kernel_gateway_warm_pool_target',
    help: 'Ready kernels the warm pool keeps, by kernelspec (warm_pool)',
    labelNames: ['kernelspec'],
    registers: [live],
    collect() {
      this.reset();
      for (const p of kernels.warmPoolStatus()) this.set({ kernelspec: p.kernelspec }, p.target);
    },
  });
  new Gauge({
    name: 'kernel_gateway_websocket_connections',
    help: 'Open websocket connections to kernels',
    registers: [live],
    collect() {
      this.set(kernels.list().reduce((n, k) => n + k.connections, 0));
    },
  });
  return live;
}

export function registerOperatorRoutes(app: FastifyInstance, opts: OperatorRoutesOptions): void {
  const live = liveGauges(opts.kernels);
  const find = (id: string) => {
    const kernel = opts.kernels.get(id);
    if (!kernel) throw new HttpError(404, `Kernel does not exist: ${id}`);
    return kernel;
  };

  app.get('/metrics', documented({ summary: 'Prometheus metrics', tags: ['gateway'], produces: ['text/plain'], response: { 200: respond('The Prometheus text exposition format.', { type: 'string' }) } }), async (_req, reply) => {
    const text = (await eventRegistry.metrics()) + (await live.metrics());
    return reply.type(eventRegistry.contentType).send(text);
  });

  app.get('/api/gateway/status', documented({ summary: 'The gateway, its kernels and its last events', tags: ['gateway'], response: { 200: respond('The gateway status.', STATUS_MODEL) } }), async () => opts.board.status());

  app.get('/api/gateway/events', documented({ summary: 'The gateway status, live (server-sent events)', tags: ['gateway'], produces: ['text/event-stream'], description: 'A `status` event with the document of /api/gateway/status now and every 2 s, and an `event` event for each gateway event as it happens.', response: { 200: respond('An event stream.', { type: 'string' }) } }), async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no', ...(reply.getHeaders() as Record<string, string>) });
    res.on('error', () => undefined);
    // A client that does not read gets no more than what fits in its socket: snapshots are
    // skipped while the previous one has not drained.
    const send = (event: string, data: unknown): void => {
      if (res.writableNeedDrain || res.destroyed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = opts.board.subscribe({ status: (s) => send('status', s), event: (e) => send('event', e), end: () => res.end() });
    const heartbeat = setInterval(() => {
      if (!res.writableNeedDrain) res.write(': keepalive\n\n');
    }, SSE_HEARTBEAT_MS);
    heartbeat.unref();
    req.raw.socket.setTimeout(0);
    res.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  app.post<{ Params: { id: string } }>('/api/gateway/kernels/:id/interrupt', documented({ summary: 'Interrupt a kernel', tags: ['gateway'], params: KERNEL_ID_PARAMS, response: { 204: respond('Interrupted.'), 404: NO_KERNEL } }), async (req, reply) => {
    await find(req.params.id).interrupt();
    return reply.code(204).send();
  });
  app.post<{ Params: { id: string } }>('/api/gateway/kernels/:id/restart', documented({ summary: 'Restart a kernel', tags: ['gateway'], params: KERNEL_ID_PARAMS, response: { 200: respond('Restarted: the kernel model.', ref(KERNEL_MODEL)), 404: NO_KERNEL } }), async (req) => {
    const kernel = find(req.params.id);
    await kernel.restart('requested');
    return kernel.model();
  });
  app.delete<{ Params: { id: string } }>('/api/gateway/kernels/:id', documented({ summary: 'Shut a kernel down', tags: ['gateway'], params: KERNEL_ID_PARAMS, response: { 204: respond('Shut down.'), 404: NO_KERNEL } }), async (req, reply) => {
    find(req.params.id);
    await opts.kernels.shutdown(req.params.id);
    return reply.code(204).send();
  });

  const page = dashboardHtml({ base: opts.base, version: opts.version });
  app.get('/dashboard', async (_req, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(page));
}
