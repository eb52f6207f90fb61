// Connection info for one kernel: five free loopback ports and a random key, written as a
// 0600 JSON file the kernel reads with `-f {connection_file}`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface ConnectionInfo {
  transport: 'tcp';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

/** A free port as the OS picks it (bind to port 0), as jupyter_client does. Another process
 *  can still take it before the kernel binds it; a kernel that then exits is retried. */
function freePort(ip: string): Promise<{ port: number; release: () => Promise<void> }> {
  return listenOn(ip, 0);
}

function listenOn(ip: string, port: number): Promise<{ port: number; release: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, ip, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      resolve({ port: address.port, release: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Ports handed out lately: the OS may offer a just-released port again before the kernel
 *  that got it has bound it, so concurrent launches could otherwise collide. */
const recentlyAllocated = new Map<number, number>();
const RESERVE_MS = 120_000;

/** Five distinct free ports, none handed out by this process in the last two minutes. */
export async function allocatePorts(ip = '127.0.0.1'): Promise<number[]> {
  const now = Date.now();
  for (const [port, until] of recentlyAllocated) if (until < now) recentlyAllocated.delete(port);
  const held: { port: number; release: () => Promise<void> }[] = [];
  const rejected: { release: () => Promise<void> }[] = [];
  try {
    while (held.length < 5) {
      const candidate = await freePort(ip);
      if (recentlyAllocated.has(candidate.port) || held.some((h) => h.port === candidate.port)) rejected.push(candidate);
      else held.push(candidate);
    }
  } finally {
    await Promise.all([...held, ...rejected].map((h) => h.release()));
  }
  for (const h of held) recentlyAllocated.set(h.port, now + RESERVE_MS);
  return held.map((h) => h.port);
}

export async function newConnectionInfo(kernelName: string, ip = '127.0.0.1'): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = (await allocatePorts(ip)) as [number, number, number, number, number];
  return {
    transport: 'tcp',
    ip,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomUUID() + randomBytes(8).toString('hex'),
    signature_scheme: 'hmac-sha256',
    kernel_name: kernelName,
  };
}

export function writeConnectionFile(dir: string, kernelId: string, info: ConnectionInfo): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `kernel-${kernelId}.json`);
  writeFileSync(path, JSON.stringify(info, null, 1), { mode: 0o600 });
  return path;
}

export function removeConnectionFile(path: string): void {
  rmSync(path, { force: true });
}

export function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}
