// Enterprise Gateway's launch payload, version 1: what a kernel launcher (launch_ipykernel.py
// and its R and Scala siblings) sends to the gateway's response address. The launcher gets the
// gateway's RSA public key as `{public_key}` (base64 DER, the PEM body), wraps a random AES key
// with it (RSA PKCS#1 v1.5), encrypts its connection JSON with that AES key (AES-ECB, PKCS#7
// padding), and sends base64(JSON {version: 1, key: base64, conn_info: base64}).
//
// Node refuses PKCS#1 v1.5 private decryption since CVE-2023-46809, so the RSA step is
// node-forge's; AES is node's own. Each launch gets its own key pair (LaunchKey).
import { createDecipheriv, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type forge from 'node-forge';
import { LaunchPayloadError } from '../../errors.js';
import type { ConnectionInfo } from '../connection-file.js';

/** Enterprise Gateway's size (its ResponseManager.KEY_SIZE): the key only wraps a one-time AES
 *  key, during one launch. 1024 bits: ~9 ms to generate, ~5 ms per decryption in node-forge
 *  (2048: ~120 ms, tail 650 ms, and ~29 ms), and a payload may be tried against every key. */
export const LAUNCH_KEY_BITS = 1024;

const generateRsa = promisify(generateKeyPair);

let forgeModule: Promise<typeof forge> | undefined;
/** node-forge (several MiB) is loaded at the first remote launch: a gateway whose kernels are
 *  all local never needs it. */
const loadForge = (): Promise<typeof forge> => (forgeModule ??= import('node-forge').then((m) => m.default));

/** A fresh RSA key pair for one launch. */
export class LaunchKey {
  private constructor(
    /** As the launcher takes it: the base64 DER SubjectPublicKeyInfo (a PEM body, one line). */
    readonly publicKey: string,
    private readonly privateKey: forge.pki.rsa.PrivateKey,
    /** Bytes of an RSA block for this key. */
    readonly blockBytes: number,
  ) {}

  static async generate(): Promise<LaunchKey> {
    const { publicKey, privateKey } = await generateRsa('rsa', {
      modulusLength: LAUNCH_KEY_BITS,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const { pki } = await loadForge();
    return new LaunchKey(publicKey.toString('base64'), pki.privateKeyFromPem(privateKey), LAUNCH_KEY_BITS / 8);
  }

  /** The AES key the launcher wrapped, or undefined when this key did not wrap it. */
  unwrap(encryptedKey: Buffer): Buffer | undefined {
    if (encryptedKey.length !== this.blockBytes) return undefined;
    try {
      return Buffer.from(this.privateKey.decrypt(encryptedKey.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
    } catch {
      return undefined;
    }
  }
}

/** A version 1 payload, parsed but not decrypted. */
export interface PayloadEnvelope {
  encryptedKey: Buffer;
  encryptedConnectionInfo: Buffer;
}

/** Everything the gateway needs from a launcher's connection info. */
export interface LaunchedKernelInfo {
  kernelId: string;
  /** The five ports, key and scheme; `ip` as the launcher reported it (often 0.0.0.0). */
  connection: ConnectionInfo;
  /** The launcher's listener for {"signum": n} and {"shutdown": 1}; 0 when it has none. */
  commPort: number;
  /** The launcher's process and process group, on its own host (or in its container). */
  pid: number | undefined;
  pgid: number | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function strictBase64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) throw new LaunchPayloadError(`${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/** Checks the outer layers: base64, JSON, version 1, both fields base64 of plausible sizes. */
export function parseEnvelope(data: string): PayloadEnvelope {
  const json = strictBase64(data.trim(), 'the payload').toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    throw new LaunchPayloadError('the payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new LaunchPayloadError('the payload is not a JSON object');
  const { version, key, conn_info: connInfo } = payload as Record<string, unknown>;
  // Version 0 (before Enterprise Gateway 2.0) used the kernel id as the AES key: not accepted.
  if (version !== 1) throw new LaunchPayloadError(`payload version ${JSON.stringify(version)} is not supported (only 1)`);
  const encryptedKey = strictBase64(key, "the payload's key");
  const encryptedConnectionInfo = strictBase64(connInfo, "the payload's conn_info");
  if (encryptedConnectionInfo.length === 0 || encryptedConnectionInfo.length % 16 !== 0) throw new LaunchPayloadError("the payload's conn_info is not AES blocks");
  return { encryptedKey, encryptedConnectionInfo };
}

/** Decrypts an envelope with one launch's key: undefined when that key did not wrap it. Throws
 *  when the key fits but what it unlocks is not a launcher's connection info. */
export function openEnvelope(envelope: PayloadEnvelope, key: LaunchKey): LaunchedKernelInfo | undefined {
  const aesKey = key.unwrap(envelope.encryptedKey);
  if (aesKey === undefined || ![16, 24, 32].includes(aesKey.length)) return undefined;
  let text: string;
  try {
    const decipher = createDecipheriv(`aes-${aesKey.length * 8}-ecb`, aesKey, null);
    text = Buffer.concat([decipher.update(envelope.encryptedConnectionInfo), decipher.final()]).toString('utf8');
  } catch {
    // Bad padding: PKCS#1 v1.5 let a wrong key through (it happens, rarely); not ours.
    return undefined;
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    return undefined;
  }
  return connectionInfoOf(info);
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 65535;

function connectionInfoOf(value: unknown): LaunchedKernelInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LaunchPayloadError('the connection info is not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.kernel_id !== 'string' || v.kernel_id === '') throw new LaunchPayloadError('the connection info has no kernel_id');
  for (const name of ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const) {
    if (!isPort(v[name])) throw new LaunchPayloadError(`the connection info's ${name} is not a port`);
  }
  if (typeof v.key !== 'string') throw new LaunchPayloadError("the connection info's key is not a string");
  const scheme = v.signature_scheme ?? 'hmac-sha256';
  if (scheme !== 'hmac-sha256') throw new LaunchPayloadError(`signature scheme ${JSON.stringify(scheme)} is not supported`);
  const transport = v.transport ?? 'tcp';
  if (transport !== 'tcp') throw new LaunchPayloadError(`transport ${JSON.stringify(transport)} is not supported`);
  if (v.comm_port !== undefined && v.comm_port !== 0 && !isPort(v.comm_port)) throw new LaunchPayloadError("the connection info's comm_port is not a port");
  const int = (x: unknown): number | undefined => (Number.isInteger(x) ? (x as number) : undefined);
  return {
    kernelId: v.kernel_id,
    connection: {
      transport: 'tcp',
      ip: typeof v.ip === 'string' ? v.ip : '',
      shell_port: v.shell_port as number,
      iopub_port: v.iopub_port as number,
      stdin_port: v.stdin_port as number,
      control_port: v.control_port as number,
      hb_port: v.hb_port as number,
      key: v.key,
      signature_scheme: 'hmac-sha256',
      kernel_name: typeof v.kernel_name === 'string' ? v.kernel_name : '',
    },
    commPort: (v.comm_port as number | undefined) ?? 0,
    pid: int(v.pid),
    pgid: int(v.pgid),
  };
}
