// Checks every request passes before reaching a route (HTTP and websocket alike):
// token auth, the cross-origin guard, and the CORS headers the operator configured.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { KernelGatewayAppConfig } from '../config/gateway-config.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The token a request carries: `?token=<t>` first, else `Authorization: token <t>`, the
 * original's order (a wrong query token is refused even next to a right header).
 */
export function requestToken(headers: IncomingHttpHeaders, url: string): string | undefined {
  const query = url.indexOf('?');
  if (query >= 0) {
    const token = new URLSearchParams(url.slice(query + 1)).get('token');
    if (token !== null) return token;
  }
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^token\s+(.+)$/i.exec(auth.trim());
    if (match) return match[1]!.trim();
  }
  return undefined;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (expected === '') return true;
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** Jupyter's cross-origin guard: a browser request from another origin is refused unless allowed. */
export function originAllowed(headers: IncomingHttpHeaders, allowOrigin: string): boolean {
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '' || allowOrigin === '*') return true;
  if (allowOrigin !== '' && origin === allowOrigin) return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  return originHost === String(headers.host ?? '').toLowerCase();
}

/** The CORS headers, exactly as configured; unset options add nothing. */
export function corsHeaders(cfg: KernelGatewayAppConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  if (cfg.allow_origin) headers['Access-Control-Allow-Origin'] = cfg.allow_origin;
  if (cfg.allow_credentials) headers['Access-Control-Allow-Credentials'] = cfg.allow_credentials;
  if (cfg.allow_headers) headers['Access-Control-Allow-Headers'] = cfg.allow_headers;
  if (cfg.allow_methods) headers['Access-Control-Allow-Methods'] = cfg.allow_methods;
  if (cfg.expose_headers) headers['Access-Control-Expose-Headers'] = cfg.expose_headers;
  if (cfg.max_age) headers['Access-Control-Max-Age'] = cfg.max_age;
  return headers;
}

/** The URL as it may be logged: a token in the query string is masked. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[secret]');
}

/** trust_xheaders, or its older spelling x_headers='true'. */
export function trustsProxyHeaders(cfg: KernelGatewayAppConfig): boolean {
  return cfg.trust_xheaders || cfg.x_headers.trim().toLowerCase() === 'true';
}

/**
 * The client's address for the log. Behind a proxy (trust_xheaders) it is X-Real-Ip, else the
 * last X-Forwarded-For hop, as Tornado's xheaders reads them; otherwise the socket's peer.
 */
export function remoteAddress(headers: IncomingHttpHeaders, socketAddress: string, trustProxyHeaders: boolean): string {
  if (!trustProxyHeaders) return socketAddress;
  const realIp = headers['x-real-ip'];
  if (typeof realIp === 'string' && realIp.trim()) return realIp.trim();
  const forwarded = headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return hops[hops.length - 1] ?? socketAddress;
}
