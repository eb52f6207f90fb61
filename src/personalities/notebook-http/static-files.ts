// Files served beside the notebook API: `/public/<file>` from static_path (content type by
// extension, ETag/Last-Modified revalidation, never a file outside the folder, symlinks included)
// and the notebook itself at `/_api/source`.
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contentTypeFor } from '../../http/content-types.js';

import { localNotebookPath } from '../../kernels/notebook.js';
import { HttpError } from '../../errors.js';

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

  async serve(relative: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const file = await this.resolve(relative);
    const info = await stat(file);
    if (!info.isFile()) throw new HttpError(403, `${relative} is not a file`);
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
    reply.header('ETag', etag).header('Last-Modified', lastModified.toUTCString());
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const fresh = inm !== undefined ? inm.split(',').some((t) => t.trim() === etag || t.trim() === '*') : ims !== undefined && Date.parse(ims) >= lastModified.getTime();
    if (fresh) return reply.code(304).send();
    reply.type(contentTypeFor(file)).header('Content-Length', String(info.size));
    if (req.method === 'HEAD') return reply.send();
    return reply.send(createReadStream(file));
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
    if (!res.ok) throw new Error(`Could not fetch notebook ${this.uri}: HTTP ${res.status}`);
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
