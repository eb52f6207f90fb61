// A multipart/form-data body (RFC 7578) split into fields and files by busboy. The whole body is
// already in memory (max_body_size bounds it), so busboy is fed that one Buffer; file contents
// stay bytes. Limits on the number of parts and fields, and on field names, keep a small body
// from becoming a huge REQUEST object.
import busboy from 'busboy';
import { format } from 'content-type';
import { decodeText } from './content-type.js';
import { HttpError } from '../../errors.js';

export interface UploadedFile {
  filename: string;
  /** The part's media type as busboy reads it: lower-cased `type/subtype`, `text/plain` when the part names none (RFC 7578 4.4). */
  content_type: string;
  /** The file's bytes, base64. */
  data: string;
}

/** Field name -> every value sent under it, in order: text fields as strings, file parts as objects. */
export type FormFields = Record<string, (string | UploadedFile)[]>;

export const MULTIPART_LIMITS = {
  /** Parts of any kind, fields and files together. */
  parts: 1000,
  /** Text fields. */
  fields: 1000,
  /** Bytes of one field's name (UTF-8). */
  fieldNameBytes: 200,
} as const;

// busboy's own messages -> ours (what the client did wrong, not where busboy noticed).
const BUSBOY_ERRORS: Record<string, string> = {
  'Unexpected end of form': 'multipart/form-data body is truncated or does not contain its boundary (no closing boundary)',
  'Unexpected end of file': 'multipart/form-data body is truncated inside a file part',
  'Malformed part header': 'multipart/form-data body has a malformed part header (each header line must be "Name: value", at most 16 KiB in all)',
};

export async function parseMultipart(body: Buffer, boundary: string | undefined): Promise<FormFields> {
  if (!boundary) throw new HttpError(400, 'multipart/form-data body without a boundary parameter');
  let parser: busboy.Busboy;
  try {
    // busboy reads the Content-Type header itself, more strictly than parseMediaType: it is given
    // one written out again (quoted as needed) from the boundary that parseMediaType found.
    const contentType = format({ type: 'multipart/form-data', parameters: { boundary } });
    parser = busboy({
      headers: { 'content-type': contentType },
      // As before: a filename keeps its folders, and header parameters are UTF-8 (as browsers send them).
      preservePath: true,
      defParamCharset: 'utf8',
      // max_body_size already bounds field sizes; busboy's default would cut a field at 1 MiB.
      // busboy says 'partsLimit' on reaching its limit (the last part allowed), 'fieldsLimit' on
      // going past it: one more part than ours, so that both mean "too many".
      limits: { parts: MULTIPART_LIMITS.parts + 1, fields: MULTIPART_LIMITS.fields, fieldSize: Infinity, fileSize: Infinity },
    });
  } catch (err) {
    throw new HttpError(400, `multipart/form-data boundary ${JSON.stringify(boundary)} is not a valid boundary`, undefined, { cause: err });
  }

  return new Promise<FormFields>((resolve, reject) => {
    // Values in the order their parts arrived; a file's is known only when its stream ends.
    const entries: { name: string; value: string | UploadedFile | undefined }[] = [];
    let failure: HttpError | undefined;
    const fail = (err: HttpError): void => {
      // The first problem is the answer; busboy still runs to the end of the (in-memory) body.
      failure ??= err;
    };
    const acceptName = (name: string | undefined): name is string => {
      // A part without a name (or with name="") cannot be a form field: skipped, as before.
      if (name === undefined || name === '') return false;
      if (Buffer.byteLength(name, 'utf8') <= MULTIPART_LIMITS.fieldNameBytes) return true;
      fail(new HttpError(400, `multipart/form-data field name is longer than ${MULTIPART_LIMITS.fieldNameBytes} bytes: ${JSON.stringify(name.slice(0, 40))}...`));
      return false;
    };

    parser.on('field', (name, value: string | undefined) => {
      if (!acceptName(name)) return;
      // busboy decodes a field in the charset its part names; for one outside its short list it
      // gives undefined and the bytes are gone.
      if (value === undefined) fail(new HttpError(400, `multipart/form-data field ${JSON.stringify(name)} names a charset this server cannot decode; send it as UTF-8`));
      else entries.push({ name, value });
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      // Always read, even a part that is not kept, so that busboy goes on to the next part.
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => fail(new HttpError(400, BUSBOY_ERRORS[err.message] ?? `multipart/form-data: ${err.message}`, undefined, { cause: err })));
      if (!acceptName(name)) return;
      const entry: (typeof entries)[number] = { name, value: undefined };
      entries.push(entry);
      stream.on('end', () => {
        const bytes = Buffer.concat(chunks);
        // busboy calls an application/octet-stream part a file even without a filename; like
        // Tornado, a part without a (non-empty) filename is a text field.
        entry.value = info.filename === undefined ? decodeText(bytes) : { filename: info.filename, content_type: info.mimeType, data: bytes.toString('base64') };
      });
    });
    parser.on('partsLimit', () => fail(new HttpError(413, `multipart/form-data body has more than ${MULTIPART_LIMITS.parts} parts`)));
    parser.on('fieldsLimit', () => fail(new HttpError(413, `multipart/form-data body has more than ${MULTIPART_LIMITS.fields} fields`)));
    parser.on('error', (err: Error) => {
      fail(new HttpError(400, BUSBOY_ERRORS[err.message] ?? `multipart/form-data: ${err.message}`, undefined, { cause: err }));
      reject(failure);
    });
    parser.on('close', () => {
      if (failure) return reject(failure);
      const fields: FormFields = Object.create(null) as FormFields;
      for (const { name, value } of entries) if (value !== undefined) (fields[name] ??= []).push(value);
      resolve(fields);
    });
    parser.end(body);
  });
}
