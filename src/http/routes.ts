// Route helpers shared by the server and every personality: the base_url prefix and the 405
// answer for methods a resource does not support.
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { HttpError } from '../errors.js';

/** Normalises base_url to '' or '/prefix' (no trailing slash). */
export function basePrefix(baseUrl: string): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Answers 405 for every method a resource does not support. */
export function refuseOtherMethods(app: FastifyInstance, url: string, allowed: HTTPMethods[]): void {
  const others = ALL_METHODS.filter((m) => !allowed.includes(m) && !(m === 'HEAD' && allowed.includes('GET')));
  if (others.length === 0) return;
  app.route({
    method: others,
    url,
    handler: async () => {
      throw new HttpError(405, '');
    },
  });
}
