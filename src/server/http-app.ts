// The Fastify app every personality is mounted on: raw bodies (routes parse them), the
// original's JSON error shape, auth/origin/CORS checks, 404/405 answers, an access log with
// tokens masked, and the base_url prefix.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { httpErrorFor, sendError } from '../http/error-response.js';
import { basePrefix } from '../http/routes.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { guardHttpServer, httpServerOptions, makeClientErrorHandler } from './connections.js';
import { httpRequestDuration, totals } from '../observability/metrics.js';
import { corsHeaders, originAllowed, redactUrl, remoteAddress, requestToken, tokenMatches, trustsProxyHeaders } from './request-policies.js';
import type { TlsServerOptions } from './tls-options.js';
import { HttpError } from '../errors.js';

export interface HttpAppOptions {
  config: GatewayConfig;
  logger: PinoLogger;
  https?: TlsServerOptions;
  /** Told of every request refused for its token or origin. */
  onRefused?: (status: number, method: string, route: string) => void;
}

export function createHttpApp(opts: HttpAppOptions): FastifyInstance {
  const cfg = opts.config.KernelGatewayApp;
  const cors = corsHeaders(cfg);
  const timeouts = httpServerOptions(cfg);
  const prefix = basePrefix(cfg.base_url);
  const app = Fastify({
    loggerInstance: opts.logger,
    // Our own access log (onResponse below) masks tokens; Fastify's per-request lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: cfg.max_body_size,
    forceCloseConnections: true,
    // A client may not hold a connection by sending slowly or not at all (Fastify turns
    // Node's request timeout off by default).
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    http: { headersTimeout: timeouts.headersTimeout, connectionsCheckingInterval: timeouts.connectionsCheckingInterval },
    clientErrorHandler: makeClientErrorHandler((line) => opts.logger.warn(line)),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1000 },
    // URLs the router cannot even parse (bad %-escapes, over-long segments) get our error shape too.
    frameworkErrors: (err: Error & { statusCode?: number }, _req: FastifyRequest, reply: FastifyReply) => {
      reply.headers(cors);
      sendError(reply, err.statusCode ?? 400, err.message);
    },
    ...(opts.https ? { https: { ...opts.https, headersTimeout: timeouts.headersTimeout, connectionsCheckingInterval: timeouts.connectionsCheckingInterval } } : {}),
  }) as unknown as FastifyInstance;
  guardHttpServer(app.server);

  // Every route gets the raw body and parses it itself: clients send JSON with all sorts of
  // content types (or none), and notebook-http needs the bytes as they came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(cors);
    if (req.method === 'OPTIONS') {
      // CORS preflight: exempt from auth, answered with the configured headers.
      return reply.code(200).send();
    }
    // The dashboard page holds no data (its script asks for the token, then calls the guarded
    // routes), so a reload works once the token has left the URL.
    const route = req.routeOptions.url;
    const open = (route === `${prefix}/metrics` && !cfg.authenticate_prometheus) || (route === `${prefix}/dashboard` && req.method === 'GET');
    if (!open && !tokenMatches(cfg.auth_token, requestToken(req.headers, req.url))) {
      opts.onRefused?.(401, req.method, req.routeOptions.url ?? 'unmatched');
      return sendError(reply, 401, '');
    }
    if (!originAllowed(req.headers, cfg.allow_origin)) {
      req.log.warn(`Blocking cross-origin request from ${req.headers.origin}`);
      opts.onRefused?.(404, req.method, req.routeOptions.url ?? 'unmatched');
      return sendError(reply, 404, '');
    }
  });

  // trust_xheaders: the access log's remote address comes from X-Real-Ip / X-Forwarded-For.
  const trustProxyHeaders = trustsProxyHeaders(cfg);
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const elapsed = reply.elapsedTime;
    // Route patterns, not paths, as the handler label: no ids or user input in label values.
    httpRequestDuration.observe({ method: req.method, handler: req.routeOptions.url ?? 'unmatched', status_code: String(status) }, elapsed / 1000);
    totals.requests++;
    if (status >= 500) totals.errors++;
    const path = redactUrl(req.url);
    const fields = { method: req.method, path: path.split('?')[0], status, duration_ms: Math.round(elapsed * 100) / 100 };
    const line = `${status} ${req.method} ${path} (${remoteAddress(req.headers, req.ip, trustProxyHeaders)}) ${elapsed.toFixed(2)}ms`;
    if (status >= 500) req.log.error(fields, line);
    else if (status >= 400) req.log.warn(fields, line);
    else req.log.info(fields, line);
  });

  app.setErrorHandler((err: Error, req, reply) => {
    const e = httpErrorFor(err);
    // An HttpError is an answer chosen on purpose; anything else that ends in a 5xx is a fault.
    if (!(err instanceof HttpError) && e.status >= 500) req.log.error(`${req.method} ${redactUrl(req.url)} failed: ${err.stack ?? err.message}`);
    return sendError(reply, e.status, e.message, e.reason);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, `Not found: ${redactUrl(req.url).split('?')[0]}`));
  return app;
}
