// TLS through real gateway processes, with certificates made by openssl at test time:
// certfile + keyfile (flags) pinned to TLS 1.2 by ssl_version, and a certfile holding its key
// with client_ca (env vars), which refuses a client without a certificate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { launchGateway, jupyterDirs, makeCertificates, type Certificates } from '../server/gateway-fixtures.js';
import type { GatewayProcess } from '../helpers/gateway-process.js';

const dirs = jupyterDirs();
let certs: Certificates;
let pinned: GatewayProcess;
let mutual: GatewayProcess;

before(async () => {
  certs = makeCertificates(dirs.root);
  [pinned, mutual] = await Promise.all([
    launchGateway(['--port=0', `--certfile=${certs.serverCert}`, `--keyfile=${certs.serverKey}`, '--ssl_version=5'], { ...dirs.env, KG_ALLOW_ORIGIN: '*' }),
    launchGateway([], { ...dirs.env, KG_PORT: '0', KG_CERTFILE: certs.serverCombined, KG_CLIENT_CA: certs.ca }),
  ]);
});

after(async () => {
  await Promise.all([pinned?.stop(), mutual?.stop()]);
  dirs.cleanup();
});

interface Answer {
  status: number;
  protocol: string | null;
  headers: Record<string, string | string[] | undefined>;
}

function get(url: string, opts: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(certs.ca), agent: false, ...opts }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, protocol, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('certfile and keyfile', () => {
  test('serve HTTPS only, logged as https; ssl_version=5 pins TLS 1.2', async () => {
    assert.match(pinned.url, /^https:\/\/127\.0\.0\.1:\d+\/?$/);
    const res = await get(`${pinned.url}/api`);
    assert.equal(res.status, 200);
    assert.equal(res.protocol, 'TLSv1.2');
    await assert.rejects(get(`${pinned.url}/api`, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }), 'a TLS 1.3-only client is refused');
    const plain = await fetch(`http://127.0.0.1:${pinned.port}/api`).then((r) => r.status, () => 'refused');
    assert.notEqual(plain, 200, 'no plain HTTP on the TLS port');
  });

  test("allow_origin '*' lets any origin past the cross-origin guard", async () => {
    const res = await get(`${pinned.url}/api`, { headers: { Origin: 'https://anywhere.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });
});

describe('client_ca (mutual TLS)', () => {
  test('a client without a certificate is refused; one signed by the CA is served', async () => {
    await assert.rejects(get(`${mutual.url}/api`), (err: NodeJS.ErrnoException) => {
      assert.match(`${err.code} ${err.message}`, /certificate|ECONNRESET|EPIPE|socket hang up/i);
      return true;
    });
    const ok = await get(`${mutual.url}/api`, { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
    assert.equal(ok.status, 200);
    assert.equal(ok.protocol, 'TLSv1.3', 'without ssl_version, TLS 1.3 is offered');
  });

  test('a client certificate from another CA is refused', async () => {
    await assert.rejects(get(`${mutual.url}/api`, { cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) }));
  });
});
