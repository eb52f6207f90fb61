// Finds the endpoint for a request path and verb: tries endpoints in their routing order (see
// compareEndpointPaths), matches segment by segment so that a `%2F` inside a parameter value
// stays inside it, and tells 404 (no path matches) from 405 (a path matches, not the verb).
import { asVerb, isParamSegment, pathSegments, type Endpoint, type HttpVerb } from './endpoints.js';

export type RouteMatch =
  | { kind: 'endpoint'; endpoint: Endpoint; verb: HttpVerb; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: HttpVerb[] }
  | { kind: 'not-found' };

interface CompiledEndpoint {
  endpoint: Endpoint;
  /** A literal segment, or null where a parameter goes. */
  literals: (string | null)[];
  names: string[];
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class EndpointRouter {
  private readonly fixed = new Map<string, CompiledEndpoint[]>();
  private readonly parameterised: CompiledEndpoint[] = [];

  /** `endpoints` in routing order (the parsers return them so). */
  constructor(readonly endpoints: Endpoint[]) {
    for (const endpoint of endpoints) {
      const segments = pathSegments(endpoint.path);
      const compiled: CompiledEndpoint = {
        endpoint,
        literals: segments.map((s) => (isParamSegment(s) ? null : s)),
        names: segments.filter(isParamSegment).map((s) => s.slice(1)),
      };
      if (compiled.names.length === 0) {
        const key = segments.join('/');
        this.fixed.set(key, [...(this.fixed.get(key) ?? []), compiled]);
      } else {
        this.parameterised.push(compiled);
      }
    }
  }

  /** `rawPath` is the request path below base_url, still percent-encoded, without the query. */
  match(method: string, rawPath: string): RouteMatch {
    const segments = pathSegments(rawPath).map(decodeSegment);
    const verb = asVerb(method);
    // HEAD is not an endpoint verb (the original answers it 405): it must not run a cell.
    const wanted = method === verb ? verb : undefined;
    const allowed = new Set<HttpVerb>();
    // Paths without parameters come first in the routing order, so a map lookup can go first.
    const candidates = [...(this.fixed.get(segments.join('/')) ?? []).map((c) => ({ c, params: {} as Record<string, string> }))];
    for (const c of this.parameterised) {
      const params = matchSegments(c, segments);
      if (params) candidates.push({ c, params });
    }
    for (const { c, params } of candidates) {
      if (wanted && c.endpoint.sources[wanted] !== undefined) return { kind: 'endpoint', endpoint: c.endpoint, verb: wanted, params };
      for (const v of Object.keys(c.endpoint.sources) as HttpVerb[]) allowed.add(v);
    }
    if (candidates.length === 0) return { kind: 'not-found' };
    return { kind: 'method-not-allowed', allowed: [...allowed] };
  }
}

function matchSegments(c: CompiledEndpoint, segments: string[]): Record<string, string> | undefined {
  if (c.literals.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i < segments.length; i++) {
    const literal = c.literals[i];
    if (literal === null) params[c.names[n++]!] = segments[i]!;
    else if (literal !== segments[i]) return undefined;
  }
  return params;
}
