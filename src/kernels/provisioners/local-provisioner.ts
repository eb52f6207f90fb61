// The default provisioner: the kernel is a child process of the gateway on this machine, in its
// own process group (signals reach the kernel and its children, not the gateway), reached on
// loopback ports chosen here and handed to it in a 0600 connection file. A restart keeps the
// ports and the key, so the ZeroMQ sockets (and the websockets on top) survive it.
import { spawn, type ChildProcess } from 'node:child_process';
import { newConnectionInfo, removeConnectionFile, writeConnectionFile, type ConnectionInfo } from '../connection-file.js';
import type { KernelLocation, KernelProvisioner, LaunchedProcess, LaunchRequest, ProcessEnd } from './provisioner.js';
import { KernelLaunchError } from '../../errors.js';

export const LOCAL_PROVISIONER = 'local-provisioner';

export class LocalProvisioner implements KernelProvisioner {
  readonly name = LOCAL_PROVISIONER;
  private info?: ConnectionInfo;
  private connectionFile?: string;
  private child?: ChildProcess;
  private ended?: Promise<ProcessEnd>;

  constructor(private readonly runtimeDir: string) {}

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    this.info ??= await newConnectionInfo(request.spec.name);
    this.connectionFile ??= writeConnectionFile(this.runtimeDir, request.kernelId, this.info);
    const file = this.connectionFile;
    const argv = request.spec.spec.argv.map((a) => a.replaceAll('{connection_file}', file).replaceAll('{resource_dir}', request.spec.resourceDir));
    const child = spawn(argv[0]!, argv.slice(1), { env: request.env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.ended = new Promise<ProcessEnd>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => resolve({ code: null, signal: null, error: new KernelLaunchError(`Could not start kernel "${request.spec.name}" (${argv[0]}): ${err.message}`, { cause: err }) }));
    });
    return { connectionInfo: this.info, ended: this.ended };
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.child) signalGroup(this.child, signal);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(child, 'SIGKILL');
      await this.ended;
    }
    // Children the kernel left in its group go too (this child's group, never a newer one's).
    signalGroup(child, 'SIGKILL');
  }

  killNow(): void {
    if (this.child) signalGroup(this.child, 'SIGKILL');
  }

  async cleanup(restart: boolean): Promise<void> {
    if (restart || !this.connectionFile) return;
    removeConnectionFile(this.connectionFile);
  }

  location(): KernelLocation {
    return { provisioner: this.name, pid: this.child?.pid };
  }
}

/** Signals a kernel's process group (falls back to the process alone). */
function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  }
}
