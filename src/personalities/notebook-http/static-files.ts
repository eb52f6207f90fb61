// Files served beside the notebook API: `/public/<file>` from static_path (content type by
// extension, ETag/Last-Modified revalidation, byte ranges, never a file outside the folder,
// symlinks included)
// and the notebook itself at `/_api/source`.
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contentTypeFor } from '../../http/content-types.js';

import { localNotebookPath } from '../../kernels/notebook.js';
import { HttpError, NotebookError } from '../../errors.js';

export class StaticFolder {
  private rootReal?: Promise<string>;

  constructor(readonly root: string) {}

  /** The real path of `relative` inside the folder; 403 for anything resolving outside it. */
  async resolve(relative: string): Promise<string> {
    if (relative.includes('\0')) throw new HttpError(400, 'Invalid path');
    this.rootReal ??= realpath(this.root);
    let root: string;
    try {
      root = await this.rootReal;
    } catch {
      this.rootReal = undefined;
      throw new HttpError(404, `static_path ${this.root} does not exist`);
    }
    const candidate = join(root, relative);
    if (candidate !== root && !candidate.startsWith(root + sep)) throw new HttpError(403, `${relative} is not in the static folder`);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      throw new HttpError(404, `Not found: /public/${relative}`);
    }
    // A symlink inside the folder must not lead out of it.
    if (real !== root && !real.startsWith(root + sep)) throw new HttpError(403, `${relative} is not in the static folder`);
    return real;
  }

  /**
   * Serves a file through @fastify/send: ETag / Last-Modified revalidation (304), Range requests
   * (206, 416 when unsatisfiable) and HEAD. The containment check (resolve) runs first, and send
   * is given the resolved file alone (its own folder as root), so it cannot be led elsewhere.
   */
  async serve(relative: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const file = await this.resolve(relative);
    const info = await stat(file);
    if (!info.isFile()) throw new HttpError(403, `${relative} is not a file`);
    // send (the `fresh` module) skips a 304 when the request says Cache-Control: no-cache, which
    // fetch() adds to every conditional request; the original (Tornado) answers 304 whenever
    // the validators match, so the header is hidden from it.
    const { 'cache-control': _ignored, pragma: _alsoIgnored, ...headers } = req.headers;
    const asked = Object.assign(Object.create(req.raw) as typeof req.raw, { headers });
    const sent = await send(asked, `/${encodeURIComponent(basename(file))}`, { root: dirname(file), dotfiles: 'allow', index: false, cacheControl: false, acceptRanges: true });
    if (sent.type === 'error') {
      reply.headers(sent.headers); // 416's Content-Range: bytes */size
      const status = (sent.metadata.error as { status?: number }).status ?? sent.statusCode;
      throw new HttpError(status, status === 404 ? `Not found: /public/${relative}` : sent.metadata.error.message, undefined, { cause: sent.metadata.error });
    }
    if (sent.type !== 'file') throw new HttpError(403, `${relative} is not a file`);
    reply.code(sent.statusCode).headers(sent.headers);
    // Our content types (mime-types, with .ipynb), not send's own table, on every answer with a body.
    if (sent.headers['Content-Type'] || sent.statusCode === 200 || sent.statusCode === 206) reply.type(contentTypeFor(file));
    sent.stream.on('error', (err) => req.log.warn(`/public/${relative}: ${err.message}`));
    return reply.send(sent.stream);
  }
}

/** The seed notebook for `/_api/source`: a local file is read at each request, as the original does. */
export class NotebookSource {
  private fetched?: Buffer;

  constructor(private readonly uri: string) {}

  private get localPath(): string | undefined {
    return localNotebookPath(this.uri);
  }

  /** A notebook behind a URL is fetched once, at start-up. */
  async init(): Promise<void> {
    if (this.localPath !== undefined) return;
    const res = await fetch(this.uri);
    if (!res.ok) throw new NotebookError(`Could not fetch notebook ${this.uri}: HTTP ${res.status}`);
    this.fetched = Buffer.from(await res.arrayBuffer());
  }

  async read(): Promise<Buffer> {
    const path = this.localPath;
    if (path === undefined) return this.fetched ?? Buffer.alloc(0);
    try {
      return await readFile(path);
    } catch (err) {
      throw new HttpError(404, `The notebook is no longer readable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined, { cause: err });
    }
  }
}
