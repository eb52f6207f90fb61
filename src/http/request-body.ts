// Request bodies: every route gets the raw bytes (see the server's content type parser) and
// parses them itself, since clients send JSON under all sorts of content types, or none.
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';

/** The request body parsed as JSON; undefined for an empty body; 400 for malformed JSON. */
export function jsonBody(req: FastifyRequest): unknown {
  const body = req.body;
  if (body === undefined || body === null) return undefined;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'Invalid JSON in body of request', undefined, { cause: err });
  }
}
