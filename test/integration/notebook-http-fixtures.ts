// Helpers for the notebook-http integration tests: notebooks written to a temp dir, and raw
// HTTP requests for what fetch cannot send (repeated headers, un-normalised paths).
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { scratchDir } from '../helpers/gateway-process.js';

export function tempDir(prefix: string): string {
  return scratchDir(`${prefix}-`);
}

export type CellSpec = string | { markdown: string };

export function writeNotebook(dir: string, name: string, cells: CellSpec[], metadata: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  const nb = {
    cells: cells.map((c) =>
      typeof c === 'string'
        ? { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: c.split(/(?<=\n)/) }
        : { cell_type: 'markdown', metadata: {}, source: c.markdown },
    ),
    metadata: {
      kernelspec: { name: 'python3', language: 'python', display_name: 'Python 3' },
      language_info: { name: 'python' },
      ...metadata,
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP/1.1 request sent as given: the path is not normalised, header arrays repeat the header. */
export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string | string[]> = {}, body?: Buffer | string): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A 1x1 PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
