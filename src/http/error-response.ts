// The one place errors become HTTP answers in the original's shape:
// {"reason": <HTTP reason phrase>, "message": <what went wrong>}.
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { GatewayError, HttpError } from '../errors.js';

/** The body of every failing answer; its type is derived from this schema. */
export const ERROR_MODEL = {
  $id: 'Error',
  type: 'object',
  description: 'An error response, as every failing request gets it.',
  properties: {
    reason: { type: 'string', description: 'The HTTP reason phrase, e.g. "Not Found".' },
    message: { type: 'string', description: 'What went wrong; may be empty.' },
  },
  required: ['reason', 'message'],
  additionalProperties: false,
} as const;

export type ErrorBody = FromSchema<typeof ERROR_MODEL>;

export function errorBody(status: number, message: string, reason?: string): ErrorBody {
  return { reason: reason ?? STATUS_CODES[status] ?? 'Unknown HTTP Error', message };
}

export function sendError(reply: FastifyReply, status: number, message: string, reason?: string): FastifyReply {
  return reply.code(status).type('application/json').send(errorBody(status, message, reason));
}

/**
 * The answer for an error a request ended with: a catalogue error's own status (500 without
 * one), a framework error's statusCode (Fastify's 413 for a body over max_body_size...), else 500.
 */
export function httpErrorFor(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof GatewayError) return new HttpError(err.status ?? 500, message, undefined, { cause: err });
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  return new HttpError(typeof statusCode === 'number' && statusCode >= 400 && statusCode <= 599 ? statusCode : 500, message, undefined, { cause: err });
}
