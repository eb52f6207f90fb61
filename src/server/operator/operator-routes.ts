// The operator's routes, in every personality and behind the same token as the rest:
// /metrics (Prometheus text; authenticate_prometheus=False opens it), /api/gateway/status (the
// JSON behind the dashboard), /api/gateway/events (the same, live, as server-sent events),
// per-kernel interrupt / restart / shut down, and the /dashboard page itself.
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { KernelManager } from '../../kernels/kernel-manager.js';
import { registry as eventRegistry } from '../../observability/metrics.js';

import { dashboardHtml } from './dashboard/page.js';
import type { GatewayStatusBoard } from './gateway-status.js';
import { HttpError } from '../../errors.js';

/** How often an idle event stream gets a comment, so proxies do not drop it. */
const SSE_HEARTBEAT_MS = 15_000;

// Schemas for the API description only (the personality's swagger document records them).
const docs = (schema: Record<string, unknown>): RouteShorthandOptions => ({ schema, validatorCompiler: () => () => true, serializerCompiler: () => (d: unknown) => JSON.stringify(d) });
const error = (description: string): Record<string, unknown> => ({ description, type: 'object', properties: { reason: { type: 'string' }, message: { type: 'string' } } });
const kernelParams = { type: 'object', properties: { id: { type: 'string', format: 'uuid', description: 'The kernel id.' } }, required: ['id'] };
const STATUS_MODEL = {
  type: 'object',
  description: 'The gateway and its kernels, as the dashboard shows them.',
  properties: {
    version: { type: 'string' },
    started: { type: 'string', format: 'date-time' },
    uptime_seconds: { type: 'number' },
    process: { type: 'object', properties: { pid: { type: 'integer' }, rss_bytes: { type: 'integer' }, heap_used_bytes: { type: 'integer' }, cpu_percent: { type: 'number' } } },
    rates: { type: 'object', properties: { requests_per_second: { type: 'number' }, messages_per_second: { type: 'number' }, errors_per_second: { type: 'number' } } },
    totals: { type: 'object', properties: { requests: { type: 'integer' }, errors: { type: 'integer' }, messages: { type: 'integer' } } },
    kernels: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          execution_state: { type: 'string' },
          connections: { type: 'integer' },
          last_activity: { type: 'string', format: 'date-time' },
          started: { type: 'string', format: 'date-time' },
          uptime_seconds: { type: 'number' },
          restarts: { type: 'integer' },
          pid: { type: 'integer', 'x-nullable': true, description: 'Local kernels only; null otherwise.' },
          memory_bytes: { type: 'integer', 'x-nullable': true, description: "The kernel process's resident memory (local kernels; null otherwise)." },
          cpu_percent: { type: 'number', 'x-nullable': true, description: "The kernel process's CPU use over the last 2 s (local kernels; null until measured)." },
        },
      },
    },
    warm_pool: {
      type: 'array',
      description: 'Per warm-pooled kernelspec (warm_pool): the kernels ready to be handed out (not yet in kernels), launches under way, and the starts served (hits) or started cold (misses).',
      items: {
        type: 'object',
        properties: {
          kernelspec: { type: 'string' },
          target: { type: 'integer' },
          ready: { type: 'array', items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, pid: { type: 'integer', 'x-nullable': true }, flavour: { type: 'string', enum: ['inherited', 'restricted'], description: "'inherited': for starts without env (the gateway's environment); 'restricted': for starts with one (PATH and env_process_whitelist)." }, ready_since: { type: 'string', format: 'date-time' } } } },
          starting: { type: 'integer' },
          hits: { type: 'integer' },
          misses: { type: 'integer' },
        },
      },
    },
    events: {
      type: 'array',
      description: 'The last 100 events and the last 20 refused requests, oldest first.',
      items: { type: 'object', properties: { time: { type: 'string', format: 'date-time' }, type: { type: 'string', enum: ['start', 'start-failure', 'restart', 'death', 'cull', 'shutdown', 'refused'] }, message: { type: 'string' }, kernel_id: { type: 'string' }, kernelspec: { type: 'string' } } },
    },
  },
};

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

  app.get('/metrics', docs({ summary: 'Prometheus metrics', tags: ['gateway'], produces: ['text/plain'], response: { 200: { description: 'The Prometheus text exposition format.', type: 'string' } } }), async (_req, reply) => {
    const text = (await eventRegistry.metrics()) + (await live.metrics());
    return reply.type(eventRegistry.contentType).send(text);
  });

  app.get('/api/gateway/status', docs({ summary: 'The gateway, its kernels and its last events', tags: ['gateway'], response: { 200: STATUS_MODEL } }), async () => opts.board.status());

  app.get('/api/gateway/events', docs({ summary: 'The gateway status, live (server-sent events)', tags: ['gateway'], produces: ['text/event-stream'], description: 'A `status` event with the document of /api/gateway/status now and every 2 s, and an `event` event for each gateway event as it happens.', response: { 200: { description: 'An event stream.', type: 'string' } } }), async (req, reply) => {
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

  app.post<{ Params: { id: string } }>('/api/gateway/kernels/:id/interrupt', docs({ summary: 'Interrupt a kernel', tags: ['gateway'], params: kernelParams, response: { 204: { description: 'Interrupted.' }, 404: error('No kernel has this id.') } }), async (req, reply) => {
    await find(req.params.id).interrupt();
    return reply.code(204).send();
  });
  app.post<{ Params: { id: string } }>('/api/gateway/kernels/:id/restart', docs({ summary: 'Restart a kernel', tags: ['gateway'], params: kernelParams, response: { 200: { description: 'Restarted: the kernel model.', type: 'object' }, 404: error('No kernel has this id.') } }), async (req) => {
    const kernel = find(req.params.id);
    await kernel.restart('requested');
    return kernel.model();
  });
  app.delete<{ Params: { id: string } }>('/api/gateway/kernels/:id', docs({ summary: 'Shut a kernel down', tags: ['gateway'], params: kernelParams, response: { 204: { description: 'Shut down.' }, 404: error('No kernel has this id.') } }), async (req, reply) => {
    find(req.params.id);
    await opts.kernels.shutdown(req.params.id);
    return reply.code(204).send();
  });

  const page = dashboardHtml({ base: opts.base, version: opts.version });
  app.get('/dashboard', async (_req, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(page));
}
