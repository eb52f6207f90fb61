// One error type for every HTTP failure, and the original's JSON error body:
// {"reason": <HTTP reason phrase>, "message": <what went wrong>}.
import { STATUS_CODES } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message = '',
    readonly reason: string = STATUS_CODES[status] ?? 'Unknown HTTP Error',
  ) {
    super(message);
  }
}

export function errorBody(status: number, message: string, reason?: string): { reason: string; message: string } {
  return { reason: reason ?? STATUS_CODES[status] ?? 'Unknown HTTP Error', message };
}
