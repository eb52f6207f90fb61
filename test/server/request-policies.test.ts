// The per-request checks and the TLS options, as functions: token sources and their order,
// constant-time comparison, Jupyter's cross-origin rule, CORS headers, log masking, proxy
// trust, and what certfile/keyfile/client_ca/ssl_version turn into.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/cli/options.js';
import { corsHeaders, originAllowed, redactUrl, remoteAddress, requestToken, tokenMatches, trustsProxyHeaders } from '../../src/server/request-policies.js';
import { tlsServerOptions } from '../../src/server/tls-options.js';
import { makeCertificates } from './gateway-fixtures.js';
import { TlsConfigError } from '../../src/errors.js';

test('the token comes from ?token= first, else `Authorization: token`', () => {
  assert.equal(requestToken({ authorization: 'token abc' }, '/api'), 'abc');
  assert.equal(requestToken({ authorization: 'Token  abc ' }, '/api'), 'abc');
  assert.equal(requestToken({}, '/api?x=1&token=q%20t'), 'q t');
  assert.equal(requestToken({ authorization: 'token header' }, '/api?token=query'), 'query');
  assert.equal(requestToken({ authorization: 'Bearer abc' }, '/api'), undefined);
  assert.equal(requestToken({}, '/api'), undefined);
});

test('no configured token lets everything in; otherwise only the exact token', () => {
  assert.equal(tokenMatches('', undefined), true);
  assert.equal(tokenMatches('s', undefined), false);
  assert.equal(tokenMatches('s', 's'), true);
  assert.equal(tokenMatches('s', 'S'), false);
  assert.equal(tokenMatches('secret', 'secret-longer'), false);
});

test("Jupyter's cross-origin rule: no Origin, the same host, allow_origin or * pass", () => {
  const host = { host: '127.0.0.1:8888' };
  assert.equal(originAllowed(host, ''), true);
  assert.equal(originAllowed({ ...host, origin: 'http://127.0.0.1:8888' }, ''), true);
  assert.equal(originAllowed({ ...host, origin: 'https://evil.example' }, ''), false);
  assert.equal(originAllowed({ ...host, origin: 'https://app.example' }, 'https://app.example'), true);
  assert.equal(originAllowed({ ...host, origin: 'https://evil.example' }, 'https://app.example'), false);
  assert.equal(originAllowed({ ...host, origin: 'https://evil.example' }, '*'), true);
  assert.equal(originAllowed({ ...host, origin: 'not a url' }, ''), false);
});

test('CORS headers are exactly the configured ones; unset options add none', () => {
  const cfg = defaultConfig().KernelGatewayApp;
  assert.deepEqual(corsHeaders(cfg), {});
  Object.assign(cfg, { allow_origin: '*', allow_methods: 'GET', allow_headers: 'X-A', allow_credentials: 'true', expose_headers: 'X-B', max_age: '60' });
  assert.deepEqual(corsHeaders(cfg), {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET',
    'Access-Control-Allow-Headers': 'X-A',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'X-B',
    'Access-Control-Max-Age': '60',
  });
});

test('tokens in URLs are masked for the log', () => {
  assert.equal(redactUrl('/api/kernels?token=abc&x=1'), '/api/kernels?token=[secret]&x=1');
  assert.equal(redactUrl('/api?x=1&TOKEN=abc'), '/api?x=1&TOKEN=[secret]');
  assert.equal(redactUrl('/api?tokenish=1'), '/api?tokenish=1');
});

test('trust_xheaders, or x_headers=true, trusts proxy headers', () => {
  const cfg = defaultConfig().KernelGatewayApp;
  assert.equal(trustsProxyHeaders(cfg), false);
  assert.equal(trustsProxyHeaders({ ...cfg, trust_xheaders: true }), true);
  assert.equal(trustsProxyHeaders({ ...cfg, x_headers: 'True' }), true);
});

test('the logged address: X-Real-Ip, else the last X-Forwarded-For hop, only when trusted', () => {
  const headers = { 'x-forwarded-for': '1.1.1.1, 2.2.2.2' };
  assert.equal(remoteAddress(headers, '127.0.0.1', false), '127.0.0.1');
  assert.equal(remoteAddress(headers, '127.0.0.1', true), '2.2.2.2');
  assert.equal(remoteAddress({ ...headers, 'x-real-ip': '3.3.3.3' }, '127.0.0.1', true), '3.3.3.3');
  assert.equal(remoteAddress({}, '127.0.0.1', true), '127.0.0.1');
});

test('TLS options: none without files; certfile alone must hold the key; client_ca requires client certificates; ssl_version pins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kg-tls-'));
  try {
    const certs = makeCertificates(dir);
    const cfg = defaultConfig().KernelGatewayApp;
    assert.equal(tlsServerOptions(cfg), undefined);
    const combined = tlsServerOptions({ ...cfg, certfile: certs.serverCombined })!;
    assert.ok(combined.key.toString().includes('PRIVATE KEY'));
    assert.throws(() => tlsServerOptions({ ...cfg, certfile: certs.serverCert }), (e: Error) => e instanceof TlsConfigError && /holds no private key/.test(e.message));
    assert.throws(() => tlsServerOptions({ ...cfg, client_ca: certs.ca }), /TLS needs certfile/);
    const mutual = tlsServerOptions({ ...cfg, certfile: certs.serverCert, keyfile: certs.serverKey, client_ca: certs.ca })!;
    assert.equal(mutual.requestCert, true);
    assert.equal(mutual.rejectUnauthorized, true);
    assert.ok(mutual.ca);
    const pinned = tlsServerOptions({ ...cfg, certfile: certs.serverCombined, ssl_version: 5 })!;
    assert.deepEqual([pinned.minVersion, pinned.maxVersion], ['TLSv1.2', 'TLSv1.2']);
    assert.equal(tlsServerOptions({ ...cfg, certfile: certs.serverCombined, ssl_version: 2 })!.minVersion, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
