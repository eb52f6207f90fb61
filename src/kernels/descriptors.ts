// File descriptors, the resource every kernel costs the gateway: its open-file limit, how many it
// has open, whether a failure was running out of them, and whether one more kernel start fits.
//
// The soft RLIMIT_NOFILE needs no raising here: Node raises it to the hard limit itself at
// start-up (PlatformInit in node.cc), and Node has no setrlimit to go further. Past the hard
// limit only the operator can help (ulimit -n, systemd LimitNOFILE=, docker --ulimit nofile=).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** What one kernel's channels hold: 7 ZeroMQ sockets of one fd each (shell, control, stdin with
 *  the 2 inproc sockets of its event monitor, iopub, heartbeat) and 5 TCP connections. */
export const FDS_PER_KERNEL_CHANNELS = 12;

/** What one kernel start may hold at its peak: its channels, and while it starts the 5 ports
 *  probed (more if one is rejected), the connection file, spawn's pipe. */
export const FDS_PER_KERNEL_START = FDS_PER_KERNEL_CHANNELS + 8;

/** Kept free for clients (HTTP requests, websockets, log files): no kernel start eats into them. */
export const FDS_KEPT_FREE = 32;

let limit: number | undefined | null = null;

/** The process's soft open-file limit (Infinity: unlimited; undefined: it cannot be told). */
export function openFileLimit(): number | undefined {
  if (limit === null) limit = readOpenFileLimit();
  return limit;
}

function readOpenFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft !== undefined) return soft === 'unlimited' ? Infinity : Number(soft) || undefined;
  } catch {
    /* not Linux */
  }
  try {
    // A child inherits the limit: the shell's ulimit reports ours (macOS and other Unixes).
    const soft = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return soft === 'unlimited' ? Infinity : Number(soft) || undefined;
  } catch {
    return undefined;
  }
}

/** How many fds the process has open (undefined: it cannot be told; Infinity: not even the
 *  listing could be opened, so none is left). */
export function openFileCount(): number | undefined {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      // Less the fd of the listing itself.
      return readdirSync(dir).length - 1;
    } catch (err) {
      if (isOutOfDescriptors(err)) return Infinity;
    }
  }
  return undefined;
}

/** How many more fds the process may open (Infinity: no limit; undefined: it cannot be told). */
export function freeDescriptors(): number | undefined {
  const max = openFileLimit();
  if (max === Infinity) return Infinity;
  const open = openFileCount();
  return max === undefined || open === undefined ? undefined : Math.max(0, max - open);
}

/** Whether `err`, or an error it was caused by, is EMFILE or ENFILE. */
export function isOutOfDescriptors(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
  }
  return false;
}

/**
 * Why one more kernel start does not fit in the open-file limit, with `launching` starts already
 * under way (their fds may not be open yet), or undefined when it fits or cannot be told.
 * Refusing up front keeps the failure a clean one: past the limit, a ZeroMQ socket made but
 * unable to open its TCP connection retries in silence, and the start would only time out.
 */
export function descriptorShortage(launching: number): string | undefined {
  const max = openFileLimit();
  if (max === undefined || max === Infinity) return undefined;
  const open = openFileCount();
  if (open === undefined) return undefined;
  const needed = (launching + 1) * FDS_PER_KERNEL_START + FDS_KEPT_FREE;
  if (open + needed <= max) return undefined;
  const held = open === Infinity ? 'all' : `${open}`;
  const others = launching > 0 ? `, ${launching} other start(s) under way` : '';
  return `Out of file descriptors (EMFILE): ${held} of the gateway's ${max} are open${others}, and a kernel start needs about ${FDS_PER_KERNEL_START} with ${FDS_KEPT_FREE} kept free for clients; end some kernels or raise the open-file limit (ulimit -n)`;
}
