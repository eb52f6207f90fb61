// The provisioner contract: where and how a kernel's process runs (a local child process, a
// container, a Swarm service, a process on an SSH host). A provisioner launches the process,
// tells where its ZeroMQ ports are, reports its end, signals and kills it, and cleans up what it
// leaves. Talking to the running kernel (channels, heartbeat, status, restart policy) is
// RunningKernel's, the same for every provisioner. One provisioner object serves one kernel
// for its whole life, restarts included, like jupyter_client's KernelProvisioner.
import type { ConnectionInfo } from '../connection-file.js';
import type { KernelSpecEntry } from '../kernelspecs.js';
import type { Logger } from '../logger.js';

export interface LaunchRequest {
  kernelId: string;
  spec: KernelSpecEntry;
  /** The kernel's environment, after the gateway's env policy (what a local process gets). */
  env: Record<string, string>;
  /** Of the start request's env, what the policy kept (KERNEL_* and env_whitelist variables):
   *  what a kernel elsewhere gets of the request, never the gateway's own environment. */
  requestEnv: Record<string, string>;
  /** How long the process may take to be reachable (remote launchers report their ports). */
  timeoutMs: number;
  log: Logger;
}

export interface ProcessEnd {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (a missing executable...). */
  error?: Error;
}

/** One launch of the kernel's process. */
export interface LaunchedProcess {
  /** Where to connect ZeroMQ, with the key the kernel signs with. */
  connectionInfo: ConnectionInfo;
  /** Resolves when this process has ended, however it ended; never rejects. */
  ended: Promise<ProcessEnd>;
}

/** Where a kernel runs, for listings and the dashboard; only what the provisioner knows. */
export interface KernelLocation {
  provisioner: string;
  /** A local process id (local kernels only: the gateway reads its memory and CPU). */
  pid?: number;
  host?: string;
  container?: string;
  service?: string;
}

export interface KernelProvisioner {
  /** The provisioner's name as kernelspecs give it, e.g. 'local-provisioner' (metrics label). */
  readonly name: string;
  /** Starts the kernel's process (again, after a restart); resolves once its ports are known. */
  launch(request: LaunchRequest): Promise<LaunchedProcess>;
  /** Sends a signal to the running process and its children (interrupts: SIGINT). */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Ends the running process now, without grace (the running kernel asked it to end first). */
  kill(): Promise<void>;
  /** Last resort at gateway exit, synchronous: kill what can be killed at once. */
  killNow(): void;
  /** Removes what the kernel's process left (files, containers); `restart`: it will run again. */
  cleanup(restart: boolean): Promise<void>;
  location(): KernelLocation;
  /** What it takes to find the running process again from another gateway process (JSON, for
   *  the kernel store: availability_mode); undefined while nothing runs. */
  describe(): ProcessDescription | undefined;
  /** Finds the process a description names (a previous gateway launched it), checking it is that
   *  kernel's and still running; undefined when it is gone. After this the provisioner serves it
   *  as if it had launched it: signal, kill, cleanup, and launch again for a restart. */
  reattach(request: ReattachRequest): Promise<LaunchedProcess | undefined>;
  /** Lets go of the process without ending it (the gateway stops and the kernel stays). */
  release(): void;
}

/** A provisioner's own description of a running process (pid, container id...), as JSON. */
export type ProcessDescription = Record<string, unknown>;

export interface ReattachRequest {
  kernelId: string;
  spec: KernelSpecEntry;
  description: ProcessDescription;
  /** The connection info the kernel was started with. */
  connectionInfo: ConnectionInfo;
  log: Logger;
}

/** Builds the provisioner of one new kernel, for the kernelspec it starts from. */
export type ProvisionerFactory = (spec: KernelSpecEntry) => KernelProvisioner;
