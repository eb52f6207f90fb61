// The HTTPS server options from certfile, keyfile, client_ca and ssl_version, as the original
// builds its ssl_options: a certfile alone may hold the key too; client_ca makes client
// certificates required and verified; ssl_version pins one protocol version.
import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import type { KernelGatewayAppConfig } from '../config/gateway-config.js';
import { TlsConfigError } from '../errors.js';

export interface TlsServerOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
}

/** Python ssl.PROTOCOL_* numbers -> the versions Node may negotiate (undefined: its defaults). */
const PINNED: Record<number, SecureVersion | undefined> = { 2: undefined, 17: undefined, 3: 'TLSv1', 4: 'TLSv1.1', 5: 'TLSv1.2' };

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`Could not read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** undefined when TLS is not configured (plain HTTP). */
export function tlsServerOptions(cfg: KernelGatewayAppConfig): TlsServerOptions | undefined {
  if (!cfg.certfile && !cfg.keyfile && !cfg.client_ca) return undefined;
  if (!cfg.certfile) throw new TlsConfigError(`TLS needs certfile (the server certificate); only ${cfg.keyfile ? 'keyfile' : 'client_ca'} is set`);
  const cert = read(cfg.certfile, 'certfile');
  const options: TlsServerOptions = { cert, key: cfg.keyfile ? read(cfg.keyfile, 'keyfile') : cert };
  if (!cfg.keyfile && !/PRIVATE KEY-----/.test(cert.toString('latin1'))) {
    throw new TlsConfigError(`TLS needs keyfile: certfile ${cfg.certfile} holds no private key`);
  }
  if (cfg.client_ca) Object.assign(options, { ca: read(cfg.client_ca, 'client_ca'), requestCert: true, rejectUnauthorized: true });
  if (cfg.ssl_version !== null) {
    const pinned = PINNED[cfg.ssl_version];
    if (pinned) Object.assign(options, { minVersion: pinned, maxVersion: pinned });
  }
  return options;
}
