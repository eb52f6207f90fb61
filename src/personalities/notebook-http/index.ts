// The notebook-http personality: the annotated cells of the seed notebook served as an HTTP API
// by a pool of seeded kernels, with the API's Swagger document, an optional notebook download
// and optional static files. Each request: route -> REQUEST -> one kernel from the pool -> one
// execution (plus the ResponseInfo cell, if any) -> the response built from the outputs.
import { basename } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { executeCode, type ExecutionOutcome } from '../../kernels/execute.js';
import { managedKernelPool, type KernelPool, type PoolLease } from '../../kernels/kernel-pool.js';
import type { RunningKernel } from '../../kernels/running-kernel.js';
import { notebookHttpRequestDuration } from '../../observability/metrics.js';
import { basePrefix, refuseOtherMethods } from '../../http/routes.js';

import { codeCells } from '../../kernels/notebook.js';
import type { CreatePersonality, Personality, PersonalityContext } from '../personality.js';
import { AnnotatedCellParser } from './cell-parser.js';
import { EndpointRouter } from './endpoint-router.js';
import type { NotebookApiParser, SwaggerDocument } from './endpoints.js';
import { interruptAndSettle, RequestWatch, unlessAbandoned } from './bounded-execution.js';
import { buildNotebookRequest } from './request-model.js';
import { pythonJsonDumps, requestCode } from './request-code.js';
import { applyResponseInfo, buildCellResponse, cellErrorText, parseResponseInfo, type CellResponse } from './response-builder.js';
import { NotebookSource, StaticFolder } from './static-files.js';
import { SwaggerCellParser } from './swagger-parser.js';
import { KernelDiedError, PoolClosedError, PoolWaitAbortedError, HttpError, ExecutionAbandonedError, ResponseInfoError, PersonalityConfigError } from '../../errors.js';

export const CELL_PARSER = 'kernel_gateway.notebook_http.cell.parser';
export const SWAGGER_PARSER = 'kernel_gateway.notebook_http.swagger.parser';

const ENDPOINT_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** The comment syntax for the notebook's language; the '' entry (else '#') for any other. */
export function commentPrefixFor(prefixes: Record<string, string>, language: string | undefined): string {
  if (language && prefixes[language] !== undefined) return prefixes[language]!;
  if (language && prefixes[language.toLowerCase()] !== undefined) return prefixes[language.toLowerCase()]!;
  return prefixes[''] ?? '#';
}

/** The API title: the notebook's file name without its extension(s), as the original takes it. */
export function notebookTitle(seedUri: string): string {
  let path = seedUri;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(seedUri)) {
    try {
      path = decodeURIComponent(new URL(seedUri).pathname);
    } catch {
      /* keep the text as it is */
    }
  }
  const name = basename(path);
  return name.indexOf('.') > 0 ? name.split('.')[0]! : name;
}

export function createApiParser(kind: string, commentPrefix: string, ctx: PersonalityContext): NotebookApiParser {
  if (kind === CELL_PARSER) return new AnnotatedCellParser(commentPrefix);
  if (kind === SWAGGER_PARSER) return new SwaggerCellParser(commentPrefix, ctx.seedNotebook?.cells ?? [], ctx.log);
  throw new PersonalityConfigError(`Unknown NotebookHTTPPersonality.cell_parser ${JSON.stringify(kind)}: use '${CELL_PARSER}' or '${SWAGGER_PARSER}'`);
}

export class NotebookHttpPersonality implements Personality {
  readonly parser: NotebookApiParser;
  readonly router: EndpointRouter;
  readonly pool: KernelPool<RunningKernel>;
  readonly swagger: SwaggerDocument;
  /** The language REQUEST is written in: the pool kernel's, else the notebook's. */
  readonly kernelLanguage: string;
  /** Bytes, not a string: Fastify would add a charset to the original's bare application/json. */
  private readonly swaggerJson: Buffer;
  private readonly prefix: string;
  private readonly staticFolder?: StaticFolder;
  private readonly notebookSource?: NotebookSource;
  private readonly executionTimeoutMs: number;

  constructor(private readonly ctx: PersonalityContext) {
    const app = ctx.config.KernelGatewayApp;
    const options = ctx.config.NotebookHTTPPersonality;
    const notebook = ctx.seedNotebook;
    if (!notebook || !app.seed_uri) {
      throw new PersonalityConfigError('notebook-http mode serves the cells of a notebook: set --KernelGatewayApp.seed_uri (or KG_SEED_URI) to the path or URL of an .ipynb file');
    }
    const notebookLanguage = notebook.metadata.language_info?.name ?? notebook.metadata.kernelspec?.language;
    this.parser = createApiParser(options.cell_parser, commentPrefixFor(options.comment_prefix ?? {}, notebookLanguage), ctx);
    const cells = codeCells(notebook);
    const endpoints = this.parser.endpoints(cells);
    if (endpoints.length === 0) {
      throw new PersonalityConfigError(`No endpoints were discovered in ${app.seed_uri}. Check that your cells are annotated correctly (e.g. a first line "# GET /hello").`);
    }
    this.router = new EndpointRouter(endpoints);
    for (const e of endpoints) ctx.log.info(`Registering resource: ${e.path}, methods: (${Object.keys(e.sources).join(', ')})`);

    const kernelName = app.force_kernel_name || notebook.metadata.kernelspec?.name || undefined;
    this.kernelLanguage = ctx.specs.get(ctx.kernels.resolveName(kernelName))?.spec.language || notebookLanguage || 'python';
    this.pool = managedKernelPool(ctx.kernels, { size: app.prespawn_count || 1, kernelName, log: ctx.log });

    this.swagger = this.parser.swaggerSpec(cells);
    if (this.swagger.info && typeof this.swagger.info === 'object' && this.swagger.info.title === undefined) {
      this.swagger.info.title = notebookTitle(app.seed_uri);
    }
    this.swaggerJson = Buffer.from(JSON.stringify(this.swagger), 'utf8');
    this.prefix = basePrefix(app.base_url);
    this.executionTimeoutMs = options.execution_timeout * 1000;
    if (options.static_path) this.staticFolder = new StaticFolder(options.static_path);
    if (options.allow_notebook_download) this.notebookSource = new NotebookSource(app.seed_uri);
  }

  shouldSeedCell(code: string): boolean {
    return !this.parser.isEndpointCell(code) && !this.parser.isResponseInfoCell(code);
  }

  async init(): Promise<void> {
    await this.notebookSource?.init();
    this.ctx.log.info(`Starting a pool of ${this.pool.stats.size} kernel(s) for the notebook API`);
    await this.pool.start();
    // Kernels re-adopted from the kernel store (availability_mode) that took no seat (another
    // seed notebook's, or more than the pool's size) would be unreachable here: they end.
    // In replication the other gateways' pools may be serving them: only a standalone start ends them.
    const strays = this.ctx.kernels.availabilityMode === 'replication' ? [] : this.ctx.kernels.list().filter((k) => !this.pool.has(k));
    if (strays.length) this.ctx.log.info(`Ending ${strays.length} re-adopted kernel(s) the notebook API's pool does not use (another seed notebook's, or beyond prespawn_count)`);
    await Promise.all(strays.map((k) => this.ctx.kernels.shutdown(k.id, true)));
  }

  async shutdown(): Promise<void> {
    await this.pool.shutdown();
  }

  routes(app: FastifyInstance): void {
    app.get('/_api/spec/swagger.json', async (_req, reply) => reply.type('application/json').send(this.swaggerJson));
    refuseOtherMethods(app, '/_api/spec/swagger.json', ['GET']);
    if (this.notebookSource) {
      const source = this.notebookSource;
      app.get('/_api/source', async (_req, reply) => reply.type('application/x-ipynb+json').send(await source.read()));
      refuseOtherMethods(app, '/_api/source', ['GET']);
    }
    if (this.staticFolder) {
      const folder = this.staticFolder;
      app.get<{ Params: { '*': string } }>('/public/*', async (req, reply) => folder.serve(req.params['*'] ?? '', req, reply));
      refuseOtherMethods(app, '/public/*', ['GET']);
    }
    const handler = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => this.handleEndpoint(req, reply);
    app.route({ method: ENDPOINT_METHODS, url: '/', exposeHeadRoute: false, handler });
    app.route({ method: ENDPOINT_METHODS, url: '/*', exposeHeadRoute: false, handler });
  }

  /** The request path below base_url, still percent-encoded. */
  private pathBelowBase(rawUrl: string): string {
    const q = rawUrl.search(/[?#]/);
    const path = (q < 0 ? rawUrl : rawUrl.slice(0, q)).replace(/\/{2,}/g, '/');
    if (this.prefix && (path === this.prefix || path.startsWith(this.prefix + '/'))) return path.slice(this.prefix.length) || '/';
    return path;
  }

  private async handleEndpoint(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const rawUrl = req.raw.url ?? '/';
    const path = this.pathBelowBase(rawUrl);
    const match = this.router.match(req.method, path);
    if (match.kind === 'not-found') throw new HttpError(404, `Not found: ${path}`);
    if (match.kind === 'method-not-allowed') {
      reply.header('Allow', match.allowed.join(', '));
      throw new HttpError(405, `${req.method} is not supported by ${path}`);
    }
    const started = performance.now();
    const endpoint = match.endpoint.path;
    reply.raw.once('close', () => notebookHttpRequestDuration.observe({ method: req.method, endpoint, status_code: String(reply.raw.statusCode) }, (performance.now() - started) / 1000));
    const request = await buildNotebookRequest({ rawHeaders: req.raw.rawHeaders, url: rawUrl, pathParams: match.params, body: Buffer.isBuffer(req.body) ? req.body : undefined });
    const code = requestCode(this.kernelLanguage, pythonJsonDumps(request), match.endpoint.sources[match.verb]!);
    const responseSource = match.endpoint.responseSources[match.verb];

    const lease = this.pool.tryAcquire() ?? (await this.waitForKernel(reply));
    if (!lease) {
      // The client left while queued: there is no one to answer.
      req.log.info(`${req.method} ${path}: the client left before a kernel was free`);
      reply.hijack();
      reply.raw.destroy();
      return reply;
    }
    let response: CellResponse;
    const watch = new RequestWatch(reply, this.executionTimeoutMs);
    let keepLease = false;
    try {
      response = await this.run(lease.kernel, code.executions, responseSource, req.headers.accept, watch);
    } catch (err) {
      if (err instanceof KernelDiedError) {
        throw new HttpError(500, `The kernel died while running ${match.verb} ${match.endpoint.path}; a new kernel is taking its place in the pool`);
      }
      if (err instanceof ResponseInfoError) throw new HttpError(500, `${match.verb} ${match.endpoint.path}: ${err.message}`, undefined, { cause: err });
      if (err instanceof ExecutionAbandonedError) {
        keepLease = true;
        void this.recover(lease, err.running);
        if (err.reason === 'client-gone') {
          req.log.info(`${req.method} ${path}: the client left during the execution; the kernel was interrupted`);
          reply.hijack();
          reply.raw.destroy();
          return reply;
        }
        throw new HttpError(504, `${match.verb} ${match.endpoint.path} did not finish within execution_timeout (${this.executionTimeoutMs / 1000} s); the kernel was interrupted`);
      }
      throw err;
    } finally {
      watch.dispose();
      if (!keepLease) lease.release();
    }
    reply.code(response.status).headers(response.headers);
    return reply.send(response.status === 204 || response.status === 304 ? undefined : response.body);
  }

  /** Queues for a kernel; a client that goes away meanwhile gives its place up (undefined). */
  private async waitForKernel(reply: FastifyReply): Promise<PoolLease<RunningKernel> | undefined> {
    const abandoned = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) abandoned.abort();
    };
    reply.raw.once('close', onClose);
    try {
      return await this.pool.acquire(abandoned.signal);
    } catch (err) {
      if (err instanceof PoolClosedError) throw new HttpError(503, err.message, undefined, { cause: err });
      if (err instanceof PoolWaitAbortedError) return undefined;
      throw err;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /** An abandoned request's kernel goes back to the pool once idle, or is replaced. */
  private async recover(lease: PoolLease<RunningKernel>, running: Promise<unknown>): Promise<void> {
    const kernel = lease.kernel;
    if (await interruptAndSettle(kernel, running, this.ctx.log)) {
      lease.release();
      return;
    }
    this.ctx.log.warn(`Pool kernel ${kernel.id} did not become idle after an interrupt; ending it`);
    await this.ctx.kernels.shutdown(kernel.id, true).catch((err: Error) => this.ctx.log.warn(`Ending kernel ${kernel.id} failed: ${err.message}`));
    lease.release();
  }

  private async run(kernel: RunningKernel, executions: string[], responseSource: string | undefined, accept: string | undefined, watch: RequestWatch): Promise<CellResponse> {
    let outcome: ExecutionOutcome | undefined;
    for (const code of executions) {
      outcome = await unlessAbandoned(executeCode(kernel, code), watch);
      if (outcome.status !== 'ok') break;
    }
    const response = buildCellResponse(outcome!, accept);
    // A failed cell answers 500 without its ResponseInfo, as in the original.
    if (outcome!.status !== 'ok' || responseSource === undefined) return response;
    const info = await unlessAbandoned(executeCode(kernel, responseSource), watch);
    if (info.status !== 'ok') {
      return { status: 500, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(cellErrorText(info), 'utf8') };
    }
    return applyResponseInfo(response, parseResponseInfo(info));
  }
}

export const createPersonality: CreatePersonality = (ctx) => new NotebookHttpPersonality(ctx);
