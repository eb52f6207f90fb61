// Starts the real gateway command (bin/kernel-gateway.js) as a child process on a free port and
// waits for its "at http://..." line; stop() sends SIGTERM and waits for the exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/kernel-gateway.js', import.meta.url));

export interface GatewayProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface LaunchOptions {
  /** `ulimit -n` for the gateway (soft and hard: Node raises a soft limit to the hard one). */
  openFileLimit?: number;
}

/** Starts the gateway on a free port (--port=0) with the test's env plus `env`. */
export function startGateway(args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, opts: LaunchOptions = {}): Promise<GatewayProcess> {
  return launchGatewayProcess(['--port=0', ...args], { ...process.env, ...env }, timeoutMs, BIN, undefined, opts);
}

/** Gateways this test process started: if the test runner ends it (a timeout), they end too,
 *  with SIGTERM so that they end their kernels. */
const running = new Set<ChildProcess>();
let reaperInstalled = false;
function reapOnExit(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = (): void => {
    for (const p of running) p.kill('SIGTERM');
  };
  process.once('exit', reap);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      reap();
      process.exit(1);
    });
  }
}

/** Spawns the gateway with exactly these arguments and env; killed if it never listens. `bin`
 *  is another copy of the command (an installed package's), `cwd` the directory to run in. */
export async function launchGatewayProcess(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000, bin = BIN, cwd?: string, opts: LaunchOptions = {}): Promise<GatewayProcess> {
  const command = [process.execPath, bin, ...args];
  // Through bash for the limit; `exec` keeps the pid the gateway's, for signals and /proc.
  const proc =
    opts.openFileLimit === undefined
      ? spawn(command[0]!, command.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', 'ulimit -n "$0" && exec "$@"', String(opts.openFileLimit), ...command], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  reapOnExit(proc);
  let output = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`gateway did not start in time:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /Jupyter Kernel Gateway \S+ at (https?:\/\/[^\s"]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    logs: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/** Whether a process id is alive (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `text` (e.g. a test's runtime dir). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids.sort((a, b) => a - b);
}

/** The pids of kernel processes whose command line names the given kernel id's connection file. */
export async function kernelPids(kernelId: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(`kernel-${kernelId}.json`)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** A new directory under the system's temp dir, removed when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
