// A multipart/form-data body (RFC 7578) split into fields and files. The whole body is already
// in memory (max_body_size bounds it), so this works on one Buffer; file contents stay bytes.

import { decodeText } from './content-type.js';
import { HttpError } from '../../errors.js';

export interface UploadedFile {
  filename: string;
  content_type: string;
  /** The file's bytes, base64. */
  data: string;
}

/** Field name -> every value sent under it, in order: text fields as strings, file parts as objects. */
export type FormFields = Record<string, (string | UploadedFile)[]>;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function parseMultipart(body: Buffer, boundary: string | undefined): FormFields {
  if (!boundary) throw new HttpError(400, 'multipart/form-data body without a boundary parameter');
  const fields: FormFields = Object.create(null) as FormFields;
  const delimiter = Buffer.from(`--${boundary}`);
  const partEnd = Buffer.concat([CRLF, delimiter]);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new HttpError(400, 'multipart/form-data body does not contain its boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return fields; // the close delimiter
    // The rest of the delimiter line (transport padding) ends with CRLF.
    const lineEnd = body.indexOf(CRLF, pos);
    if (lineEnd < 0) break;
    const partStart = lineEnd + 2;
    const next = body.indexOf(partEnd, partStart - 2);
    if (next < 0) break;
    addPart(fields, body.subarray(partStart, Math.max(partStart, next)));
    pos = next + 2;
  }
  throw new HttpError(400, 'multipart/form-data body is truncated (no closing boundary)');
}

function addPart(fields: FormFields, part: Buffer): void {
  // A part without headers (it starts with the blank line) has no name: nothing to keep.
  if (part.subarray(0, 2).equals(CRLF)) return;
  const headerEnd = part.indexOf(HEADER_END);
  if (headerEnd < 0) return;
  const headerText = part.subarray(0, headerEnd).toString('utf8');
  const content = part.subarray(headerEnd + 4);
  const headers = new Map<string, string>();
  for (const line of headerText.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = parseHeaderParams(headers.get('content-disposition') ?? '');
  const name = disposition.params.name;
  if (disposition.value.toLowerCase() !== 'form-data' || name === undefined) return; // not a form field: skipped
  const filename = disposition.params['filename*'] !== undefined ? decodeExtValue(disposition.params['filename*']) : disposition.params.filename;
  const contentType = headers.get('content-type');
  const values = (fields[name] ??= []);
  if (filename !== undefined) {
    values.push({ filename, content_type: contentType || 'application/octet-stream', data: content.toString('base64') });
  } else {
    values.push(decodeText(content, contentType ? parseHeaderParams(contentType).params.charset : undefined));
  }
}

/** `form-data; name="a"; filename="b.txt"` -> value and lower-cased parameter names. */
export function parseHeaderParams(header: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const semi = header.indexOf(';');
  const value = (semi < 0 ? header : header.slice(0, semi)).trim();
  const re = /;\s*([^\s=;]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header)) !== null) {
    const key = m[1]!.toLowerCase();
    params[key] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!.trim();
  }
  return { value, params };
}

/** RFC 5987 `UTF-8''na%C3%AFve.txt`. */
function decodeExtValue(text: string): string {
  const m = /^([^']*)'[^']*'(.*)$/.exec(text);
  if (!m) return text;
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    return m[2]!;
  }
}
