// The shapes both notebook API parsers (annotated cells, Swagger) produce, and the helpers they
// share: which verbs exist, how `:name` path parameters are found, and the original's endpoint
// ordering key.

/** Verbs an annotation may name (the original's four). */
export const HTTP_VERBS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type HttpVerb = (typeof HTTP_VERBS)[number];

export function asVerb(text: string): HttpVerb | undefined {
  const upper = text.toUpperCase();
  return (HTTP_VERBS as readonly string[]).includes(upper) ? (upper as HttpVerb) : undefined;
}

/** Concatenated cell sources per verb of one path. */
export type VerbSources = Partial<Record<HttpVerb, string>>;

export interface Endpoint {
  /** The path as annotated, with `:name` segments, e.g. `/people/:id`. */
  path: string;
  /** Code run for each verb. */
  sources: VerbSources;
  /** ResponseInfo code run after the endpoint's code, per verb. */
  responseSources: VerbSources;
}

/** What every cell parser offers the personality. */
export interface NotebookApiParser {
  /** Cells that define endpoints; they are not run when a kernel is seeded. */
  isEndpointCell(source: string): boolean;
  isResponseInfoCell(source: string): boolean;
  /** Every endpoint with its sources, in the order the router tries them. */
  endpoints(codeCells: string[]): Endpoint[];
  /** The Swagger 2.0 document served at /_api/spec/swagger.json (title set by the caller). */
  swaggerSpec(codeCells: string[]): SwaggerDocument;
}

export interface SwaggerDocument {
  swagger?: string;
  paths?: Record<string, Record<string, unknown>>;
  info?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A `:name` segment is a path parameter (the docs: "prepending a : to a path segment"). */
export function isParamSegment(segment: string): boolean {
  return segment.length > 1 && segment.startsWith(':');
}

export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export function pathParamNames(path: string): string[] {
  return pathSegments(path).filter(isParamSegment).map((s) => s.slice(1));
}

/** Depth of the first parameter segment (0 for `/:a`), Infinity without parameters. */
export function firstParamDepth(path: string): number {
  const index = pathSegments(path).findIndex(isParamSegment);
  return index < 0 ? Infinity : index;
}

/**
 * The order in which paths are tried. The original sorts by the depth of the first parameter,
 * deepest first (paths without parameters first of all); we keep that, and where it ties we let
 * a fixed segment beat a parameter at the first position they differ, so that the cell order
 * never decides which endpoint answers. Remaining ties keep the notebook order (stable sort).
 */
export function compareEndpointPaths(a: string, b: string): number {
  const da = firstParamDepth(a);
  const db = firstParamDepth(b);
  if (da !== db) return da > db ? -1 : 1;
  const sa = pathSegments(a);
  const sb = pathSegments(b);
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = isParamSegment(sa[i]!);
    const pb = isParamSegment(sb[i]!);
    if (pa !== pb) return pa ? 1 : -1;
  }
  return 0;
}

export function sortEndpoints(endpoints: Endpoint[]): Endpoint[] {
  return [...endpoints].sort((x, y) => compareEndpointPaths(x.path, y.path));
}

/** `/people/:id` -> `/people/{id}` (Swagger's path templating). */
export function swaggerPath(path: string): string {
  return path.replace(/(^|\/):([^/]+)/g, '$1{$2}');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
