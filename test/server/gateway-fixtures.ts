// Fixtures for the option and security tests: private Jupyter dirs, the command run to its
// exit, a gateway started with exactly the given arguments (no --port=0 added), notebooks,
// free ports, certificates made with openssl, and the kernel processes a gateway left.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, launchGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

/** Temp JUPYTER_CONFIG_DIR and JUPYTER_RUNTIME_DIR, so tests never read or write the user's. */
export function jupyterDirs(): { root: string; env: NodeJS.ProcessEnv; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'kg-options-'));
  const env = { JUPYTER_CONFIG_DIR: join(root, 'config'), JUPYTER_RUNTIME_DIR: join(root, 'runtime'), JUPYTER_CONFIG_PATH: join(root, 'no-such-dir') };
  return { root, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The gateway's env for a test: the test's own, minus any KG_* it might carry, plus `env`. */
export function gatewayEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KG_')) base[k] = v;
  return { ...base, ...env };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the kernel-gateway command until it exits (for options that never start a server). */
export function runCommand(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: gatewayEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`kernel-gateway ${args.join(' ')} did not exit in time:\n${stdout}${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the gateway with exactly `args` (the port comes from them, env or a config file). */
export function launchGateway(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<GatewayProcess> {
  return launchGatewayProcess(args, gatewayEnv(env), timeoutMs);
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An nbformat 4 notebook of code cells for the given kernelspec. */
export function notebookJson(kernelName: string, cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: kernelName, display_name: kernelName, language: 'python' } },
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, source, metadata: {}, outputs: [], execution_count: null })),
  });
}

export function writeNotebook(dir: string, name: string, kernelName: string, cells: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, notebookJson(kernelName, cells));
  return path;
}

export { processesMentioning } from '../helpers/gateway-process.js';

export interface Certificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** The server's certificate and key in one PEM file (certfile alone). */
  serverCombined: string;
  clientCert: string;
  clientKey: string;
  /** A self-signed client certificate no CA of ours vouches for. */
  strangerCert: string;
  strangerKey: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all made now. */
export function makeCertificates(dir: string): Certificates {
  const p = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=kernel-gateway test CA', '-keyout', p('ca.key'), '-out', p('ca.crt'));
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`));
    ssl('x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p(`${who}.ext`), '-out', p(`${who}.crt`));
  }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=stranger', '-addext', 'extendedKeyUsage=clientAuth', '-keyout', p('stranger.key'), '-out', p('stranger.crt'));
  writeFileSync(p('server-combined.pem'), readFileSync(p('server.crt'), 'utf8') + readFileSync(p('server.key'), 'utf8'));
  return { dir, ca: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), serverCombined: p('server-combined.pem'), clientCert: p('client.crt'), clientKey: p('client.key'), strangerCert: p('stranger.crt'), strangerKey: p('stranger.key') };
}
