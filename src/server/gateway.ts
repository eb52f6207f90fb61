// Assembles a running gateway from a config: kernelspecs, the kernel manager, the personality,
// the HTTP(S) server with websocket upgrades, port retries, and a shutdown that ends every
// kernel. The cli layer calls startGateway(); tests can too.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { WebSocketServer } from 'ws';
import { KernelManager, type AvailabilityMode } from '../kernels/kernel-manager.js';
import { ResponseListener } from '../kernels/launch-protocol/response-listener.js';
import { builtinProvisioners } from '../kernels/provisioners/builtin.js';
import type { BalancingAlgorithm } from '../kernels/provisioners/host-balancer.js';
import { userInfo } from 'node:os';
import { KernelSpecManager } from '../kernels/kernelspecs.js';
import { runtimeDir, userDataDir } from '../kernels/jupyter-paths.js';
import { FileKernelStore, isRecordId, type KernelStore } from '../kernels/persistence/kernel-store.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { codeCells, loadNotebook, type Notebook } from '../kernels/notebook.js';
import type { Personality, WebsocketRoute } from '../personalities/personality.js';
import { createHttpApp } from './http-app.js';
import { basePrefix } from '../http/routes.js';

import { answerAndClose, startKeepalive } from './connections.js';
import { GatewayStatusBoard } from './operator/gateway-status.js';
import { registerOperatorRoutes } from './operator/operator-routes.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { startKernelCuller } from './kernel-culler.js';
import { createLogger, kernelLogger } from './logging.js';
import { loadPersonality } from './personality-loader.js';
import { originAllowed, redactUrl, requestToken, tokenMatches } from './request-policies.js';
import { tlsServerOptions, type TlsServerOptions } from './tls-options.js';
import { HttpError, StartupError } from '../errors.js';

export const VERSION = '0.1.0';

export interface Gateway {
  app: FastifyInstance;
  kernels: KernelManager;
  personality: Personality;
  log: PinoLogger;
  url: string;
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute {
  route: WebsocketRoute;
  pattern: RegExp;
  names: string[];
}

function compileRoute(prefix: string, route: WebsocketRoute): CompiledRoute {
  const names: string[] = [];
  const source = (prefix + route.path)
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(seg.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/** How often a replicating gateway looks for kernels shut down through another one. */
const STORE_SYNC_MS = 2000;

/** How long websocket clients get to answer the close handshake at shutdown. */
const WS_CLOSE_GRACE_MS = 1000;

/** Closes every websocket with 1001, then terminates those that did not finish closing in time. */
async function closeWebsockets(wss: WebSocketServer, graceMs: number): Promise<void> {
  const clients = [...wss.clients];
  if (clients.length === 0) return;
  const closed = clients.map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))));
  for (const ws of clients) ws.close(1001, 'Gateway shutting down');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  for (const ws of clients) if (ws.readyState !== ws.CLOSED) ws.terminate();
  await Promise.all(closed);
}

async function listenWithRetries(app: FastifyInstance, ip: string, port: number, retries: number, log: PinoLogger): Promise<number> {
  for (let attempt = 0; attempt <= retries; attempt++) {
    const candidate = port === 0 ? 0 : port + attempt;
    try {
      await app.listen({ host: ip, port: candidate });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      log.info(`The port ${candidate} is already in use, trying another port.`);
    }
  }
  throw new StartupError(`No available port could be found in ${port}..${port + retries} (port_retries=${retries})`);
}

/** warm_pool's entries with a count, checked: each names an installed kernelspec. */
function warmPoolTargets(cfg: GatewayConfig['KernelGatewayApp'], specs: KernelSpecManager, log: PinoLogger): Record<string, number> {
  const targets: Record<string, number> = {};
  for (const [name, count] of Object.entries(cfg.warm_pool)) {
    if (count <= 0) continue;
    if (!specs.get(name.toLowerCase())) throw new StartupError(`warm_pool: no such kernel named ${name}`);
    targets[name.toLowerCase()] = count;
  }
  const pooled = Object.keys(targets);
  const forced = cfg.force_kernel_name.toLowerCase();
  if (forced && pooled.some((n) => n !== forced)) log.warn(`warm_pool: every start is for ${forced} (force_kernel_name); the pool's other kernelspecs are never handed out`);
  const total = Object.values(targets).reduce((a, b) => a + b, 0) + (cfg.prespawn_count ?? 0);
  if (cfg.max_kernels !== null && pooled.length > 0 && total > cfg.max_kernels) {
    log.warn(`warm_pool and prespawn_count ask for ${total} kernels, more than max_kernels ${cfg.max_kernels}: the pool fills only up to the limit`);
  }
  return targets;
}

export async function startGateway(config: GatewayConfig, opts: { logger?: PinoLogger; env?: NodeJS.ProcessEnv } = {}): Promise<Gateway> {
  const cfg = config.KernelGatewayApp;
  const env = opts.env ?? process.env;
  const log = opts.logger ?? createLogger(cfg.log_level, process.stderr, cfg.log_format);
  const klog = kernelLogger(log);
  const specs = new KernelSpecManager(undefined, (m) => log.warn(m));

  let seedNotebook: Notebook | undefined;
  if (cfg.seed_uri) {
    try {
      seedNotebook = (await loadNotebook(cfg.seed_uri)).notebook;
    } catch (err) {
      throw new StartupError((err as Error).message, { cause: err });
    }
  }
  const seedKernelName = seedNotebook ? (cfg.force_kernel_name || seedNotebook.metadata.kernelspec?.name || '') : '';
  if (seedNotebook && !specs.get(seedKernelName || 'python3')) {
    throw new StartupError(`No such kernel named ${seedKernelName} (the kernelspec of ${cfg.seed_uri})`);
  }

  if (cfg.prespawn_count && cfg.max_kernels !== null && cfg.prespawn_count > cfg.max_kernels) {
    throw new StartupError(`Cannot prespawn ${cfg.prespawn_count} kernels; more than max_kernels ${cfg.max_kernels}`);
  }

  const allSpecs = specs.findAll();
  const defaultKernelName = cfg.default_kernel_name || (allSpecs.has('python3') ? 'python3' : allSpecs.keys().next().value) || 'python3';
  if (allSpecs.size === 0) {
    log.warn('No kernelspec is installed: kernels cannot start. Install one, e.g. `apt-get install python3-ipykernel` (Debian) or `pip install ipykernel`.');
  }

  const warmPool = warmPoolTargets(cfg, specs, log);

  // availability_mode: the kernel store that lets kernels outlive this process.
  const mode = cfg.availability_mode.toLowerCase() as AvailabilityMode | '';
  let store: KernelStore | undefined;
  if (mode) {
    const root = cfg.persistence_root || join(userDataDir(env), 'kernel-gateway', 'store');
    try {
      store = new FileKernelStore(root);
    } catch (err) {
      throw new StartupError(`persistence_root ${root} cannot be used: ${(err as Error).message}`, { cause: err });
    }
  }

  const createPersonality = await loadPersonality(cfg.api).catch((err: Error) => {
    throw new StartupError(err.message, { cause: err });
  });

  // Listens only once a kernel elsewhere is launched.
  const responses = new ResponseListener({ ip: cfg.response_ip, port: cfg.response_port, log: klog });
  const kernels = new KernelManager({
    specs,
    defaultKernelName,
    forceKernelName: cfg.force_kernel_name || undefined,
    maxKernels: cfg.max_kernels ?? undefined,
    runtimeDir: runtimeDir(env),
    launchTimeoutMs: cfg.kernel_launch_timeout * 1000,
    restartLimit: cfg.restart_limit,
    restartWindowMs: cfg.restart_window * 1000,
    heartbeatIntervalMs: cfg.heartbeat_interval * 1000,
    envPolicy: { processWhitelist: cfg.env_process_whitelist },
    log: klog,
    gatewayEnv: env,
    warmPool: { targets: warmPool, ignoredEnv: cfg.warm_pool_ignored_env },
    persistence: store && mode ? { store, mode, gatewayId: randomUUID() } : undefined,
    provisioners: builtinProvisioners({
      outliveGateway: store !== undefined,
      runtimeDir: runtimeDir(env),
      listener: responses,
      portRange: cfg.port_range,
      allowedImages: cfg.allowed_images,
      remoteHosts: cfg.remote_hosts,
      balancing: cfg.load_balancing_algorithm.toLowerCase() as BalancingAlgorithm,
      ssh: { user: cfg.remote_user || userInfo().username, port: cfg.ssh_port, identityFile: cfg.ssh_identity_file, knownHostsFile: cfg.ssh_known_hosts_file, connectTimeoutS: 10 },
    }),
  });

  // Before the personality: its prespawn and pools count the kernels taken over.
  if (store) {
    const t0 = Date.now();
    const found = await kernels.adoptFromStore();
    log.info(`availability_mode ${mode}: re-adopted ${found.adopted.length} kernel(s) from ${store.location} in ${Date.now() - t0} ms` + (found.dropped.length ? `; dropped ${found.dropped.length} whose process was gone or did not answer` : '') + (found.skipped.length ? `; skipped ${found.skipped.length} unreadable record(s)` : ''));
  }

  let personality: Personality;
  try {
    personality = await createPersonality({ config, kernels, specs, log: klog, version: VERSION, seedNotebook });
  } catch (err) {
    throw new StartupError(`The ${cfg.api} personality could not start: ${(err as Error).message}`, { cause: err });
  }
  if (seedNotebook) {
    const filter = personality.shouldSeedCell?.bind(personality) ?? (() => true);
    kernels.setSeed({ kernelName: seedKernelName || defaultKernelName, cells: codeCells(seedNotebook).filter((c) => filter(c)) });
  }

  let https: TlsServerOptions | undefined;
  try {
    https = tlsServerOptions(cfg);
  } catch (err) {
    throw new StartupError((err as Error).message, { cause: err });
  }

  let onRefused: (status: number, method: string, route: string) => void = () => undefined;
  const app = createHttpApp({ config, logger: log, https, onRefused: (status, method, route) => onRefused(status, method, route) });
  let closing: Promise<void> | undefined;
  const prefix = basePrefix(cfg.base_url);
  const board = new GatewayStatusBoard(kernels, VERSION);
  onRefused = (status, method, route) => board.refused(status, method, route);
  // Replication: a kernel another gateway started is attached before its request is routed,
  // and one shut down elsewhere is let go of (its request then gets 404).
  const kernelInPath = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/api/kernels(?:/([^/?#]+))?(?:[/?#]|$)`);
  const hydrateFor = async (url: string | undefined, method = 'GET'): Promise<void> => {
    const match = kernelInPath.exec(url ?? '');
    if (!match) return;
    const id = match[1];
    if (id === undefined) return method === 'GET' ? kernels.hydrateAll() : undefined; // the listing shows every kernel of the store
    if (isRecordId(id)) await kernels.hydrate(id);
  };
  if (mode === 'replication') app.addHook('onRequest', async (req) => hydrateFor(req.url, req.method));

  // The operator's routes join the personality's scope, so its API description lists them.
  await app.register(
    async (scoped) => {
      await personality.routes(scoped);
      registerOperatorRoutes(scoped, { kernels, board, base: prefix, version: VERSION });
    },
    { prefix },
  );

  // Websocket upgrades: the same checks as HTTP (auth, origin), then the personality's route.
  const routes = (personality.websocketRoutes ?? []).map((r) => compileRoute(prefix, r));
  /** The route each upgrade being accepted matched, for handleProtocols. */
  const upgrading = new WeakMap<IncomingMessage, CompiledRoute>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: cfg.ws_max_message_size,
    handleProtocols: (offered, req) => upgrading.get(req)?.route.selectProtocol?.(offered) ?? false,
  });
  const keepalive = startKeepalive(cfg.ws_ping_interval * 1000, () => log.warn('Closing a websocket that answered no ping, sent nothing and read nothing for 3 ping intervals'));
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug(`Websocket socket error: ${err.message}`));
    if (mode !== 'replication') return upgrade(req, socket, head);
    hydrateFor(req.url).then(
      () => upgrade(req, socket, head),
      (err: Error) => {
        log.error(`Attaching the kernel of ${redactUrl(req.url ?? '/')} failed: ${err.message}`);
        answerAndClose(socket, 500, 'The kernel could not be attached');
      },
    );
  });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    try {
      if (closing) throw new HttpError(503, 'The gateway is shutting down');
      if (!tokenMatches(cfg.auth_token, requestToken(req.headers, url))) throw new HttpError(401, '');
      if (!originAllowed(req.headers, cfg.allow_origin)) throw new HttpError(403, 'Cross-origin websocket refused');
      const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
      if (!match || !match.m) throw new HttpError(404, `Not found: ${path}`);
      const params: Record<string, string> = {};
      match.r.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(match.m![i + 1]!);
        } catch {
          throw new HttpError(404, `Not found: ${path}`);
        }
      });
      match.r.route.check(params, req);
      upgrading.set(req, match.r);
      wss.handleUpgrade(req, socket, head, (ws) => {
        upgrading.delete(req);
        if (closing) return ws.terminate();
        (socket as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
        log.info(`101 GET ${redactUrl(url)} (websocket)`);
        keepalive.track(ws, socket);
        ws.on('error', (err) => log.warn(`Websocket error: ${err.message}`));
        try {
          match.r.route.accept(ws, req, params);
        } catch (err) {
          log.error(`Accepting a websocket on ${redactUrl(path)} failed: ${(err as Error).message}`);
          ws.close(1011, 'Internal error');
        }
      });
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message, undefined, { cause: err });
      log.warn(`${e.status} GET ${redactUrl(url)} (websocket refused: ${e.message || e.reason})`);
      if (e.status === 401 || e.status === 403) onRefused(e.status, 'GET', 'websocket upgrade');
      answerAndClose(socket, e.status, e.message);
    }
  };

  // A start-up that fails after re-adoption must not end the kernels it was to serve again:
  // with a mode set they are left for the next gateway, as at SIGTERM.
  const abandonKernels = async (): Promise<void> => {
    if (kernels.availabilityMode) await kernels.detachAll();
    else await kernels.shutdownAll(true);
  };
  try {
    await personality.init?.();
  } catch (err) {
    await abandonKernels();
    await responses.close();
    throw new StartupError(`Start-up failed: ${(err as Error).message}`, { cause: err });
  }

  // After prespawn_count's kernels, which start cold as before; the pool fills in the background.
  kernels.startWarmPool();

  let port: number;
  try {
    port = await listenWithRetries(app, cfg.ip, cfg.port, cfg.port_retries, log);
  } catch (err) {
    // Left first with a mode set: the personality's shutdown would end notebook-http's pool.
    if (kernels.availabilityMode) await kernels.detachAll();
    await personality.shutdown?.();
    if (!kernels.availabilityMode) await kernels.shutdownAll(true);
    await responses.close();
    throw err instanceof StartupError ? err : new StartupError(`Could not listen on ${cfg.ip}:${cfg.port}: ${(err as Error).message}`, { cause: err });
  }
  const scheme = https ? 'https' : 'http';
  const host = cfg.ip.includes(':') ? `[${cfg.ip}]` : cfg.ip;
  const url = `${scheme}://${host}:${port}${prefix}`;
  log.info(`Jupyter Kernel Gateway ${VERSION} at ${url}`);
  const culler = startKernelCuller(kernels, cfg, klog);
  // Replication: kernels shut down through another gateway are let go of (websockets closed).
  const sync = mode === 'replication' ? setInterval(() => kernels.syncWithStore(), STORE_SYNC_MS) : undefined;
  sync?.unref();

  const close = (): Promise<void> => {
    closing ??= (async () => {
      culler.stop();
      keepalive.stop();
      clearInterval(sync);
      log.info(mode ? `Shutting down: leaving every kernel running for the next gateway (availability_mode ${mode})` : 'Shutting down: ending every kernel');
      await Promise.all([
        closeWebsockets(wss, WS_CLOSE_GRACE_MS),
        (async () => {
          // availability_mode: kernels are let go of first, so that what the personality ends
          // at its shutdown (notebook-http's pool) is no longer there to end.
          if (mode) {
            const left = await kernels.detachAll();
            log.info(`${left} kernel(s) left running, recorded in ${store!.location}`);
          }
          await personality.shutdown?.().catch((err: Error) => log.error(`Personality shutdown failed: ${err.message}`));
          if (!mode) await kernels.shutdownAll();
          await responses.close();
        })(),
      ]);
      // Open dashboards saw every kernel end; now their streams end too.
      board.close();
      await app.close();
    })();
    return closing;
  };
  return { app, kernels, personality, log, url, port, close };
}
