// Process plumbing for the benchmark: free ports, /proc readings (RSS, peak RSS, CPU ticks),
// finding the kernels a server started, and making sure nothing the bench started survives it.
// Every process the bench starts runs with a command line or connection file under one
// temporary root, so "what is left" is answered by scanning /proc for that root.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let clockTicks: number | undefined;
/** Clock ticks per second for /proc/<pid>/stat (getconf CLK_TCK; 100 on Linux almost always). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function statusField(pid: number, field: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined when the process is gone. */
export const rssBytes = (pid: number): number | undefined => statusField(pid, 'VmRSS');
/** Anonymous resident memory (RssAnon): what the process allocated, without mapped files. */
export const anonRssBytes = (pid: number): number | undefined => statusField(pid, 'RssAnon');
/** Peak resident set size in bytes since start or the last resetPeakRss (VmHWM). */
export const peakRssBytes = (pid: number): number | undefined => statusField(pid, 'VmHWM');

/** Resets VmHWM ("5" to clear_refs, Linux >= 4.0, needs the right to); false if refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** utime + stime of the process itself (not its children), in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces or parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / clkTck();
  } catch {
    return undefined;
  }
}

/** True while the process exists and has not yet exited (a zombie counts as gone). */
export function processRunning(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids whose command line contains `needle` (never our own). */
export function pidsWithCmdline(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(needle) && processRunning(pid)) pids.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** The pid of the kernel whose connection file is kernel-<id>.json (Jupyter's naming), if any. */
export function kernelPid(kernelId: string): number | undefined {
  return pidsWithCmdline(`kernel-${kernelId}.json`)[0];
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

/** Signals a process group, falling back to the process; quiet when already gone. */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

/** SIGKILLs every process (and its group) whose command line mentions `marker`; returns their pids. */
export function killLeftovers(marker: string): number[] {
  const left = pidsWithCmdline(marker);
  for (const pid of left) killGroup(pid, 'SIGKILL');
  return left;
}

/** Samples a process's VmRSS every `everyMs` until stopped; reports the highest and the last. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  max = 0;
  last = 0;
  samples: number[] = [];

  constructor(
    private readonly pid: number,
    private readonly everyMs = 20,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  private sample(): void {
    const v = rssBytes(this.pid);
    if (v === undefined) return;
    this.last = v;
    this.max = Math.max(this.max, v);
    this.samples.push(v);
  }

  stop(): this {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this;
  }
}

/** CPU used by this (client) process over a phase, as a fraction of one core. */
export class ClientCpu {
  private readonly startUsage = process.cpuUsage();
  private readonly startTime = process.hrtime.bigint();

  /** Fraction of one core (1.0 = one core busy the whole time). */
  fraction(): number {
    const u = process.cpuUsage(this.startUsage);
    const wallUs = Number(process.hrtime.bigint() - this.startTime) / 1000;
    return wallUs > 0 ? (u.user + u.system) / wallUs : 0;
  }
}

/** CPU a server process used over a phase, as a fraction of one core; undefined without a pid. */
export class ServerCpu {
  private readonly start: number | undefined;
  private readonly startTime = process.hrtime.bigint();

  constructor(private readonly pid: number | undefined) {
    this.start = pid === undefined ? undefined : cpuSeconds(pid);
  }

  fraction(): number | undefined {
    if (this.pid === undefined || this.start === undefined) return undefined;
    const now = cpuSeconds(this.pid);
    if (now === undefined) return undefined;
    const wall = Number(process.hrtime.bigint() - this.startTime) / 1e9;
    return wall > 0 ? (now - this.start) / wall : undefined;
  }
}
