// The jupyter-websocket personality (the default): Jupyter Server's kernel REST API plus the
// kernel protocol over websockets, so Jupyter clients work against the gateway unchanged.
import type { FastifyInstance } from 'fastify';
import { SessionManager } from '../../sessions/session-manager.js';
import { SessionStore } from '../../sessions/session-store.js';
import { basePrefix, refuseOtherMethods } from '../../http/routes.js';

import type { CreatePersonality, Personality, PersonalityContext } from '../personality.js';
import { registerKernelRoutes, findKernel } from './kernels-routes.js';
import { registerKernelspecRoutes } from './kernelspecs-routes.js';
import { registerSessionRoutes } from './sessions-routes.js';
import { KernelWebsockets } from './kernel-websocket.js';
import { documented } from '../../http/route-docs.js';
import { API_INFO_DOC, CHANNELS_DOC, registerSwaggerRoutes, type ApiInfo } from './swagger.js';
import { HttpError } from '../../errors.js';

export class JupyterWebsocketPersonality implements Personality {
  readonly sessions: SessionManager;
  readonly websockets: KernelWebsockets;
  readonly websocketRoutes: Personality['websocketRoutes'];

  constructor(private readonly ctx: PersonalityContext) {
    const store = ctx.kernels.store;
    this.sessions = new SessionManager(ctx.kernels, ctx.config.JupyterWebsocketPersonality.env_whitelist, store ? new SessionStore(store, ctx.log) : undefined);
    const cfg = ctx.config.KernelGatewayApp;
    this.websockets = new KernelWebsockets(ctx.log, { maxBytes: cfg.replay_buffer_bytes, maxAgeMs: cfg.replay_buffer_seconds * 1000 });
    ctx.kernels.on('removed', (kernel) => this.websockets.forget(kernel.id));
    this.websocketRoutes = [
      {
        path: '/api/kernels/:kernel_id/channels',
        check: (params) => void findKernel(ctx.kernels, params.kernel_id ?? ''),
        selectProtocol: (offered) => this.websockets.selectProtocol(offered),
        accept: (ws, req, params) => this.websockets.accept(findKernel(ctx.kernels, params.kernel_id ?? ''), ws, req),
      },
    ];
  }

  /** The kernelspec name used when a request names none. */
  defaultKernelName(): string {
    return this.ctx.kernels.resolveName();
  }

  async routes(app: FastifyInstance): Promise<void> {
    const base = basePrefix(this.ctx.config.KernelGatewayApp.base_url);
    const listKernels = this.ctx.config.JupyterWebsocketPersonality.list_kernels;
    await registerSwaggerRoutes(app, { version: this.ctx.version, basePath: base }); // first: it records the routes below
    app.get('/api', documented(API_INFO_DOC), async (): Promise<ApiInfo> => ({ version: this.ctx.version }));
    refuseOtherMethods(app, '/api', ['GET']);
    registerKernelspecRoutes(app, this.ctx.specs, () => this.defaultKernelName(), base);
    registerKernelRoutes(app, this.ctx.kernels, { listKernels, base, startKernel: (req) => this.ctx.kernels.start({ ...req, envWhitelist: this.ctx.config.JupyterWebsocketPersonality.env_whitelist }) });
    registerSessionRoutes(app, this.sessions, { listKernels, base, defaultKernelName: () => this.defaultKernelName() });
    // A plain GET (no upgrade) on the channels URL, as Jupyter Server answers it.
    app.get<{ Params: { id: string } }>('/api/kernels/:id/channels', documented(CHANNELS_DOC), async (req) => {
      findKernel(this.ctx.kernels, req.params.id);
      throw new HttpError(400, 'Can "Upgrade" only to "WebSocket".');
    });
  }

  /** prespawn_count kernels of the default kernelspec, started before serving. */
  async init(): Promise<void> {
    // Kernels re-adopted from the kernel store (availability_mode) count.
    const name = this.defaultKernelName();
    const count = (this.ctx.config.KernelGatewayApp.prespawn_count ?? 0) - this.ctx.kernels.list().filter((k) => k.name === name).length;
    if (count <= 0) return;
    this.ctx.log.info(`Prespawning ${count} kernel(s)`);
    await Promise.all(Array.from({ length: count }, () => this.ctx.kernels.start()));
  }

  async shutdown(): Promise<void> {
    this.websockets.closeAll(1001, 'Gateway shutting down');
  }
}

export const createPersonality: CreatePersonality = (ctx) => new JupyterWebsocketPersonality(ctx);
