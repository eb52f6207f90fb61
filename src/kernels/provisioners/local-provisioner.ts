// The default provisioner: the kernel is a child process of the gateway on this machine, in its
// own process group (signals reach the kernel and its children, not the gateway), reached on
// loopback ports chosen here and handed to it in a 0600 connection file. A restart keeps the
// ports and the key, so the ZeroMQ sockets (and the websockets on top) survive it.
// A kernel a previous gateway process started (availability_mode) is re-attached by its pid:
// it is not our child, so its end is noticed by polling for the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { newConnectionInfo, removeConnectionFile, writeConnectionFile, type ConnectionInfo } from '../connection-file.js';
import type { KernelLocation, KernelProvisioner, LaunchedProcess, LaunchRequest, ProcessDescription, ProcessEnd, ReattachRequest } from './provisioner.js';
import { KernelLaunchError } from '../../errors.js';

export const LOCAL_PROVISIONER = 'local-provisioner';

/** How often a re-attached kernel's process is looked for. */
const ADOPTED_POLL_MS = 500;
/** How long a SIGKILLed re-attached process is waited for (it is reaped by init, not us). */
const KILL_WAIT_MS = 5000;

export class LocalProvisioner implements KernelProvisioner {
  readonly name = LOCAL_PROVISIONER;
  private info?: ConnectionInfo;
  private connectionFile?: string;
  private child?: ChildProcess;
  /** A process a previous gateway started: its pid, and the poll that notices its end. */
  private adopted?: { pid: number; poll: NodeJS.Timeout; end: (end: ProcessEnd) => void };
  private ended?: Promise<ProcessEnd>;

  constructor(private readonly runtimeDir: string) {}

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    this.info ??= await newConnectionInfo(request.spec.name);
    // A re-attached kernel's file may have gone with the previous gateway's runtime dir.
    if (!this.connectionFile || !existsSync(this.connectionFile)) this.connectionFile = writeConnectionFile(this.runtimeDir, request.kernelId, this.info);
    const file = this.connectionFile;
    const argv = request.spec.spec.argv.map((a) => a.replaceAll('{connection_file}', file).replaceAll('{resource_dir}', request.spec.resourceDir));
    this.stopPolling();
    const child = spawn(argv[0]!, argv.slice(1), { env: request.env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.ended = new Promise<ProcessEnd>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => resolve({ code: null, signal: null, error: new KernelLaunchError(`Could not start kernel "${request.spec.name}" (${argv[0]}): ${err.message}`, { cause: err }) }));
    });
    return { connectionInfo: this.info, ended: this.ended };
  }

  describe(): ProcessDescription | undefined {
    const pid = this.pid;
    return pid === undefined ? undefined : { pid, connectionFile: this.connectionFile };
  }

  async reattach(request: ReattachRequest): Promise<LaunchedProcess | undefined> {
    const { pid, connectionFile } = request.description;
    if (!Number.isInteger(pid) || (pid as number) <= 1 || typeof connectionFile !== 'string' || !isAbsolute(connectionFile)) return undefined;
    // The pid must still be that kernel: its command line names its connection file (a pid
    // reused by another process, or a record naming somebody else's process, is not taken).
    if (basename(connectionFile) !== `kernel-${request.kernelId}.json`) return undefined;
    // Known even when the process is gone, so that cleanup removes the file it left.
    this.connectionFile = connectionFile;
    if (!running(pid as number) || !commandLine(pid as number).includes(connectionFile)) return undefined;
    this.info = request.connectionInfo;
    this.ended = new Promise<ProcessEnd>((resolve) => {
      const poll = setInterval(() => {
        if (!running(pid as number)) this.adopted?.end({ code: null, signal: null });
      }, ADOPTED_POLL_MS);
      poll.unref();
      this.adopted = {
        pid: pid as number,
        poll,
        end: (end) => {
          this.stopPolling();
          resolve(end);
        },
      };
    });
    return { connectionInfo: this.info, ended: this.ended };
  }

  release(): void {
    this.stopPolling();
    this.child?.unref();
  }

  private stopPolling(): void {
    if (this.adopted) clearInterval(this.adopted.poll);
  }

  /** The current process: our child, or the re-attached one until a restart replaces it. */
  private get pid(): number | undefined {
    return this.child?.pid ?? this.adopted?.pid;
  }

  private get over(): boolean {
    if (this.child) return this.child.exitCode !== null || this.child.signalCode !== null;
    return this.adopted ? !running(this.adopted.pid) : true;
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    signalGroup(this.pid, signal);
  }

  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    if (!this.over) {
      signalGroup(pid, 'SIGKILL');
      // A re-attached process is not our child: wait for it here rather than on the unref'd
      // poll, which would not keep a gateway that is still starting up alive.
      if (this.adopted && !this.child) {
        await gone(pid, KILL_WAIT_MS);
        this.adopted.end({ code: null, signal: 'SIGKILL' });
      }
      await this.ended;
    }
    // Children the kernel left in its group go too (this process's group, never a newer one's).
    signalGroup(pid, 'SIGKILL');
  }

  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
  }

  async cleanup(restart: boolean): Promise<void> {
    if (restart) return;
    this.stopPolling();
    if (this.connectionFile) removeConnectionFile(this.connectionFile);
  }

  location(): KernelLocation {
    return { provisioner: this.name, pid: this.pid };
  }
}

/** Resolves once the process no longer runs, or after `timeoutMs`. */
async function gone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Whether a process runs (a zombie does not: it has ended and waits to be reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: signal 0 is all we know
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Signals a kernel's process group (falls back to the process alone). */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}
