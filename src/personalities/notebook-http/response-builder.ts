// Turns what a cell's execution published into the HTTP response: an error -> 500 with the
// original's text; else the bytes the cell wrote to stdout, verbatim; else a rich output
// (image/png decoded from base64, text/html, application/json) picked by the Accept header; else
// the original's JSON of the execute_result data; 200 text/plain unless a ResponseInfo cell's
// printed {"status", "headers"} says otherwise.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { ExecutionOutcome } from '../../kernels/execute.js';
import { ResponseInfoError } from '../../errors.js';
import Negotiator from 'negotiator';

export interface CellResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Rich mime types a response can carry, in the order preferred when the client has no preference. */
export const RICH_TYPES = ['image/png', 'text/html', 'application/json'] as const;
type RichType = (typeof RICH_TYPES)[number];

const CONTENT_TYPES: Record<RichType, string> = {
  'image/png': 'image/png',
  'text/html': 'text/html; charset=utf-8',
  'application/json': 'application/json',
};

/** The original's body for a failed cell: `Error <ename>: <evalue> \n`. */
export function cellErrorText(outcome: ExecutionOutcome): string {
  if (outcome.error) return `Error ${outcome.error.ename}: ${outcome.error.evalue} \n`;
  return `Error ${outcome.status === 'aborted' ? 'execution aborted' : 'execution failed'} \n`;
}

export function buildCellResponse(outcome: ExecutionOutcome, accept: string | undefined): CellResponse {
  if (outcome.status !== 'ok' || outcome.error) {
    return { status: 500, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(cellErrorText(outcome), 'utf8') };
  }
  if (outcome.stdout !== '') {
    return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(outcome.stdout, 'utf8') };
  }
  const rich = pickRichOutput(outcome.results, accept);
  if (rich) return { status: 200, headers: { 'Content-Type': CONTENT_TYPES[rich.type] }, body: richBytes(rich.type, rich.value) };
  const lastResult = outcome.results.filter((r) => r.type === 'execute_result').at(-1);
  const text = lastResult ? pythonJsonDumps(lastResult.data) : '';
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(text, 'utf8') };
}

/** The latest output that offers a rich type the client accepts, and that type. */
export function pickRichOutput(results: ExecutionOutcome['results'], accept: string | undefined): { type: RichType; value: unknown } | undefined {
  for (let i = results.length - 1; i >= 0; i--) {
    const data = results[i]!.data;
    const offered = RICH_TYPES.filter((t) => data[t] !== undefined && data[t] !== null);
    if (offered.length === 0) continue;
    const type = negotiate(accept, offered);
    if (type) return { type, value: data[type] };
  }
  return undefined;
}

function richBytes(type: RichType, value: unknown): Buffer {
  // nbformat allows multi-line strings as lists of lines; the wire protocol sends strings.
  const text = (v: unknown): string => (Array.isArray(v) ? v.join('') : String(v));
  if (type === 'image/png') return Buffer.from(text(value), 'base64');
  if (type === 'text/html') return Buffer.from(text(value), 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * The offered type the Accept header prefers (quality, then the most specific matching range,
 * as RFC 9110 says); the first offered when there is no Accept header; undefined when the
 * header accepts none of them.
 */
export function negotiate<T extends string>(accept: string | undefined, offered: readonly T[]): T | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  return new Negotiator({ headers: { accept } }).mediaType([...offered]) as T | undefined;
}

export interface ResponseInfo {
  status?: number;
  headers: Record<string, string | string[]>;
}

// Framing headers come from the body we send; a cell setting them would corrupt the response.
const IGNORED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

/** The status and headers a ResponseInfo cell printed as JSON. */
export function parseResponseInfo(outcome: ExecutionOutcome): ResponseInfo {
  const text = outcome.stdout.trim();
  if (text === '') throw new ResponseInfoError('the ResponseInfo cell printed nothing; it must print JSON such as {"status": 201, "headers": {...}}');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResponseInfoError(`the ResponseInfo cell did not print JSON: ${text.slice(0, 200)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ResponseInfoError('the ResponseInfo cell must print a JSON object');
  const { status, headers } = value as { status?: unknown; headers?: unknown };
  const info: ResponseInfo = { headers: {} };
  if (status !== undefined && status !== null) {
    checkStatus(status);
    info.status = status;
  }
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) throw new ResponseInfoError('ResponseInfo headers must be an object of header names to values');
    for (const [name, v] of Object.entries(headers)) {
      if (IGNORED_HEADERS.has(name.toLowerCase()) || v === null || v === undefined) continue;
      if (Array.isArray(v) && v.every(isScalar)) info.headers[name] = v.map(String);
      else if (isScalar(v)) info.headers[name] = String(v);
      else throw new ResponseInfoError(`ResponseInfo header ${JSON.stringify(name)} must be a string, number or list of them`);
      checkHeader(name, info.headers[name]!);
    }
  }
  return info;
}

function checkStatus(status: unknown): asserts status is number {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new ResponseInfoError(`ResponseInfo status must be an HTTP status code (100-599), not ${JSON.stringify(status)}`);
  }
}

/**
 * A header Node would refuse to send (it throws, and Fastify answers with its own raw error)
 * is a ResponseInfoError naming it: names must be HTTP tokens, values printable Latin-1 text.
 */
function checkHeader(name: string, value: string | string[]): void {
  try {
    validateHeaderName(name);
  } catch {
    throw new ResponseInfoError(`ResponseInfo header name ${JSON.stringify(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces)`);
  }
  for (const v of Array.isArray(value) ? value : [value]) {
    try {
      validateHeaderValue(name, v);
    } catch {
      const why = /[\r\n]/.test(v) ? 'contains a line break' : 'holds a character HTTP headers cannot carry (printable Latin-1 text only)';
      throw new ResponseInfoError(`ResponseInfo header ${JSON.stringify(name)} ${why}: ${JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}...` : v)}`);
    }
  }
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

export function applyResponseInfo(response: CellResponse, info: ResponseInfo): CellResponse {
  if (info.status !== undefined) checkStatus(info.status);
  const headers = { ...response.headers };
  for (const [name, value] of Object.entries(info.headers)) {
    checkHeader(name, value);
    // Replace a default of ours whatever the case the cell wrote the name in.
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    headers[name] = value;
  }
  return { status: info.status ?? response.status, headers, body: response.body };
}

/**
 * JSON text as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped), so
 * that the execute_result body is byte-for-byte the original's, e.g. `{"text/plain": "2"}`.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(String(value));
}
