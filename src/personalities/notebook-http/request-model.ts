// The REQUEST value a cell sees: {body, args, path, headers}, built from the HTTP request the way
// the original builds it (Title-Case header names, repeated headers as lists, every query value a
// list, the body parsed by content type), plus file uploads and charset parameters.
import { decodeText, parseMediaType } from './content-type.js';
import { parseMultipart } from './multipart-form.js';

export interface NotebookRequest {
  body: unknown;
  args: Record<string, string[]>;
  path: Record<string, string>;
  headers: Record<string, string | string[]>;
}

export interface HttpRequestParts {
  /** Node's rawHeaders: [name, value, name, value, ...] as they arrived. */
  rawHeaders: string[];
  /** The request target, e.g. `/hello?x=1`. */
  url: string;
  pathParams: Record<string, string>;
  body: Buffer | undefined;
}

function emptyRecord<T>(): Record<string, T> {
  // No prototype: a query parameter or header named `__proto__` is just a key.
  return Object.create(null) as Record<string, T>;
}

/** `content-TYPE` -> `Content-Type`, as Tornado (and so the original) names headers. */
export function titleCaseHeader(name: string): string {
  return name
    .split('-')
    .map((w) => (w === '' ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('-');
}

export function headersFromRaw(rawHeaders: string[]): Record<string, string | string[]> {
  const headers = emptyRecord<string | string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = titleCaseHeader(rawHeaders[i]!);
    const value = rawHeaders[i + 1]!;
    const prior = headers[name];
    if (prior === undefined) headers[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[name] = [prior, value];
  }
  return headers;
}

/** Query string (or url-encoded form) -> name -> every value, blanks kept. */
export function formValues(query: string): Record<string, string[]> {
  const out = emptyRecord<string[]>();
  for (const [key, value] of new URLSearchParams(query)) (out[key] ??= []).push(value);
  return out;
}

export function queryArgs(url: string): Record<string, string[]> {
  const q = url.indexOf('?');
  if (q < 0) return emptyRecord<string[]>();
  const hash = url.indexOf('#', q);
  return formValues(url.slice(q + 1, hash < 0 ? undefined : hash));
}

/**
 * The body by content type: application/json -> its value (the text when it is not valid JSON),
 * url-encoded and multipart forms -> an object of lists, anything else -> the text. Async because
 * multipart parts are read through busboy's streams.
 */
export async function parseBody(body: Buffer | undefined, contentType: string | undefined): Promise<unknown> {
  const bytes = body ?? Buffer.alloc(0);
  const media = parseMediaType(contentType);
  if (media?.type === 'multipart/form-data') return parseMultipart(bytes, media.params.boundary);
  const text = bytes.length === 0 ? '' : decodeText(bytes, media?.params.charset);
  if (media?.type === 'application/x-www-form-urlencoded') return formValues(text);
  if (media?.type === 'application/json') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export async function buildNotebookRequest(parts: HttpRequestParts): Promise<NotebookRequest> {
  const headers = headersFromRaw(parts.rawHeaders);
  const contentType = headers['Content-Type'];
  const path = emptyRecord<string>();
  Object.assign(path, parts.pathParams);
  return {
    body: await parseBody(parts.body, Array.isArray(contentType) ? contentType[0] : contentType),
    args: queryArgs(parts.url),
    path,
    headers,
  };
}
