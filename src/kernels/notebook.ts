// The nbformat v4 notebook, as far as the gateway reads it: code cells and kernelspec metadata.
// It lives with the kernels because notebooks seed them (seed_uri); notebook-http reads its
// endpoints from one too.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NotebookError } from '../errors.js';

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name?: string; language?: string; display_name?: string }; language_info?: { name?: string }; [k: string]: unknown };
  nbformat: number;
  nbformat_minor?: number;
}

export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
}

export function codeCells(nb: Notebook): string[] {
  return nb.cells.filter((c) => c.cell_type === 'code').map(cellSource);
}

export function parseNotebook(text: string, where: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new NotebookError(`${where} is not a valid notebook: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as Notebook).cells)) {
    throw new NotebookError(`${where} is not a valid notebook: it has no "cells" list`);
  }
  const nb = raw as Notebook;
  if (typeof nb.nbformat === 'number' && nb.nbformat < 4) throw new NotebookError(`${where} is nbformat ${nb.nbformat}; version 4 is required`);
  nb.metadata ??= {};
  return nb;
}

/**
 * The file a local seed URI names: a file:// URL decoded (%20 -> space, %25 -> %) by
 * fileURLToPath, anything else taken as a path as it is. Undefined for http(s) URLs.
 */
export function localNotebookPath(uri: string): string | undefined {
  if (/^https?:\/\//i.test(uri)) return undefined;
  if (!/^file:\/\//i.test(uri)) return uri;
  try {
    return fileURLToPath(uri);
  } catch (err) {
    throw new NotebookError(`Notebook URI ${uri} is not a usable file URL: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads a notebook from a path, a file:// URL, or an http(s) URL. */
export async function loadNotebook(uri: string): Promise<{ notebook: Notebook; text: string }> {
  let text: string;
  const path = localNotebookPath(uri);
  if (path === undefined) {
    let res: Response;
    try {
      res = await fetch(uri);
    } catch (err) {
      throw new NotebookError(`Could not fetch notebook ${uri}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new NotebookError(`Could not fetch notebook ${uri}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new NotebookError(`Could not read notebook ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  return { notebook: parseNotebook(text, uri), text };
}
