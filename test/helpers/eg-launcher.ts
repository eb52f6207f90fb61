// Enterprise Gateway's python launcher, unmodified, as tests run it: the argv of its
// python_distributed kernelspec with the placeholders filled, as a local process; its own
// _encrypt for hand-made payloads; raw senders for the response port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DEBIAN_PYTHON, EG_DIR, EG_PYTHON_LAUNCHER } from './engines.js';

const run = promisify(execFile);

export interface LaunchVars {
  kernelId: string;
  responseAddress: string;
  publicKey: string;
  portRange?: string;
}

/** The python_distributed kernelspec's argv, placeholders filled, with `python` and the script
 *  path replaced by `python` and `launcher` (where they are on the machine that runs it). */
export function distributedKernelArgv(vars: LaunchVars, python = DEBIAN_PYTHON, launcher = EG_PYTHON_LAUNCHER): string[] {
  const spec = JSON.parse(readFileSync(join(EG_DIR, 'kernelspecs/python_distributed/kernel.json'), 'utf8')) as { argv: string[] };
  const fill: Record<string, string> = { kernel_id: vars.kernelId, response_address: vars.responseAddress, public_key: vars.publicKey, port_range: vars.portRange ?? '0..0' };
  const argv = spec.argv.map((a) => a.replace(/\{(\w+)\}/g, (m, name: string) => fill[name] ?? m));
  argv[0] = python;
  argv[1] = launcher;
  return argv;
}

export interface LocalLauncher {
  proc: ChildProcess;
  logs(): string;
  /** Processes left in the launcher's process group (the kernel and its comm-port listener). */
  groupMembers(): number[];
  /** Resolves once the whole process group is gone. */
  gone(timeoutMs?: number): Promise<void>;
  kill(): void;
}

/** Pids whose process group is `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command: state ppid pgrp ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Runs the launcher as its own process group (the test can then see all it started). */
export function spawnLocalLauncher(vars: LaunchVars, env: NodeJS.ProcessEnv = {}): LocalLauncher {
  const [cmd, ...args] = distributedKernelArgv(vars);
  const proc = spawn(cmd!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-50_000)));
  proc.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-50_000)));
  const pgid = proc.pid!;
  const groupMembers = (): number[] => processGroupMembers(pgid);
  const kill = (): void => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', kill);
  return {
    proc,
    logs: () => output,
    groupMembers,
    kill,
    async gone(timeoutMs = 30_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (groupMembers().length > 0) {
        if (Date.now() > end) throw new Error(`launcher process group ${pgid} still has ${groupMembers().join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** A payload made by the launcher's own _encrypt (Cryptodome), for any connection info. */
export async function encryptLikeLauncher(connectionInfo: Record<string, unknown>, publicKey: string): Promise<string> {
  const code = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(dirname(EG_PYTHON_LAUNCHER))})`,
    'from launch_ipykernel import _encrypt',
    'print(_encrypt(sys.argv[1].encode(), sys.argv[2]).decode())',
  ].join('\n');
  const { stdout } = await run(DEBIAN_PYTHON, ['-c', code, JSON.stringify(connectionInfo), publicKey]);
  return stdout.trim();
}

/** Sends bytes to `address` (host:port); `end` false leaves the connection half-done (open,
 *  payload incomplete). Resolves with the socket once written. */
export function sendRaw(address: string, data: string | Buffer, end = true): Promise<Socket> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(data, () => {
        if (end) socket.end();
        resolve(socket);
      });
    });
  });
}

/** Resolves when the other side has closed `socket` (or it errored). */
export function closedByPeer(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('close', () => resolve());
  });
}
