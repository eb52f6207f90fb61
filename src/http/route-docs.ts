// What a route declares to be described in the API document (/api/swagger.json, which
// @fastify/swagger builds from every route's `schema`). The schemas document; they neither
// validate nor serialize: handlers check input themselves with the original's status codes and
// messages, and write responses as they build them, so documented() keeps Fastify's validator
// and serializer out of it.
import type { FastifySchema, RouteShorthandOptions } from 'fastify';
import { ERROR_MODEL } from './error-response.js';

/** A JSON Schema node. Shared models carry an `$id` and become Swagger definitions. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A route's documentation, in the keys @fastify/swagger reads. */
export interface RouteDocs extends FastifySchema {
  summary: string;
  description?: string;
  /** Routes without tags are left out of the document (the 405 answerers, the pages). */
  tags: string[];
  produces?: string[];
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  /** Status code -> respond(...). */
  response: Record<string, JsonSchema>;
}

const acceptAnything = (): (() => boolean) => () => true;
const plainJson = (): ((data: unknown) => string) => (data) => JSON.stringify(data);

/** Route options carrying a schema for the API document only (see the header comment). */
export function documented(schema: RouteDocs): Pick<RouteShorthandOptions, 'schema' | 'validatorCompiler' | 'serializerCompiler'> {
  return { schema, validatorCompiler: acceptAnything, serializerCompiler: plainJson };
}

/** A reference to a shared model (one registered with addSchema, by its `$id`). */
export function ref(model: { readonly $id: string }): JsonSchema {
  return { $ref: `${model.$id}#` };
}

/**
 * One documented response: what it means, the schema of its body (none: an empty body), and
 * its headers. The description travels in @fastify/swagger's x-response-description so that it
 * is not also copied into the body's schema.
 */
export function respond(description: string, body?: JsonSchema, headers?: Record<string, JsonSchema>): JsonSchema {
  return { 'x-response-description': description, ...(body ?? { type: 'null' }), ...(headers ? { headers } : {}) };
}

/** A failing response: the original's {reason, message} body. */
export function errorResponse(description: string): JsonSchema {
  return respond(description, ref(ERROR_MODEL));
}
