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

function freePort(ip: string): Promise<{ port: number; release: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, ip, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      resolve({ port: address.port, release: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Five distinct free ports: all are held open together so none is handed out twice. */
export async function allocatePorts(ip = '127.0.0.1'): Promise<number[]> {
  const held = await Promise.all([0, 1, 2, 3, 4].map(() => freePort(ip)));
  await Promise.all(held.map((h) => h.release()));
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
