// One kernel the gateway runs: its process, its ZeroMQ channels, and the state Jupyter
// clients see (execution_state, last_activity, connections). Restart keeps the id, the
// ports and the key, so the ZeroMQ sockets (and the websockets on top) survive it.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Channel } from '../protocol/message.js';
import { isoNow, makeMessage } from '../protocol/message.js';
import { RawMessage } from '../protocol/wire.js';
import { newConnectionInfo, removeConnectionFile, writeConnectionFile, type ConnectionInfo } from './connection-file.js';
import { KernelChannels, type RequestChannel } from './kernel-channels.js';
import type { KernelSpecEntry } from './kernelspecs.js';
import type { Logger } from './logger.js';
import { KernelLaunchError, KernelExitedEarlyError, KernelChannelsUnreachableError } from '../errors.js';

export interface KernelModel {
  id: string;
  name: string;
  last_activity: string;
  execution_state: string;
  connections: number;
}

export interface LaunchOptions {
  id?: string;
  spec: KernelSpecEntry;
  env: Record<string, string>;
  runtimeDir: string;
  launchTimeoutMs: number;
  log: Logger;
  /** Told of the kernel as soon as it exists, before it is ready (so it can be ended if need be). */
  track?: (kernel: RunningKernel) => void;
}

/** How long a kernel that answers on shell may take to accept all its other channels. */
const CHANNELS_CONNECT_MS = 10_000;

/** 'requested': REST restart (the client knows); 'died': the automatic restart after a death. */
export type RestartReason = 'requested' | 'died';

export interface RunningKernelEvents {
  /** Every message from the kernel, after the kernel's own bookkeeping. */
  message: [channel: Channel, msg: RawMessage];
  /** The process ended without the gateway asking it to. */
  died: [code: number | null, signal: NodeJS.Signals | null];
  /** A restart begins; after a death, clients should see iopub `status: restarting`. */
  restarting: [reason: RestartReason];
  /** Given up on after too many deaths: clients should see `status: dead`. */
  dead: [];
  /** shutdown() began: whatever waits on this kernel should stop waiting. */
  ending: [];
  /** execution_state changed (from the kernel's iopub status). */
  state: [state: string];
}

const SHUTDOWN_WAIT_MS = 5000;

export class RunningKernel extends EventEmitter<RunningKernelEvents> {
  readonly id: string;
  readonly name: string;
  executionState = 'starting';
  lastActivity = new Date();
  connections = 0;
  /** When this kernel was first launched (or handed out by the warm pool), and how many times
   *  it was restarted since. */
  startedAt = new Date();
  restarts = 0;
  /** The session id the gateway uses for the requests it makes itself. */
  readonly session = randomUUID();
  private process?: ChildProcess;
  private exited?: Promise<void>;
  private expectingExit = false;
  private ending = false;
  private readonly pending = new Map<string, (msg: RawMessage) => void>();
  /** Set while the process starts or restarts, until it answered kernel_info on shell and iopub. */
  private starting?: Promise<void>;
  /** The restart in flight: a second restart joins it, shutdown waits for it. */
  private restarting?: Promise<void>;
  private ended?: Promise<void>;
  private readonly channels: KernelChannels;
  private readonly connectionFile: string;

  private constructor(
    readonly spec: KernelSpecEntry,
    readonly connectionInfo: ConnectionInfo,
    private readonly env: Record<string, string>,
    private readonly launchTimeoutMs: number,
    private readonly log: Logger,
    runtimeDir: string,
    id: string,
  ) {
    super();
    this.id = id;
    this.name = spec.name;
    this.connectionFile = writeConnectionFile(runtimeDir, id, connectionInfo);
    this.channels = new KernelChannels(connectionInfo, log);
    this.channels.on('message', (channel, msg) => this.onMessage(channel, msg));
  }

  /** Starts a kernel and resolves once it answers kernel_info_request; cleans up on failure. */
  static async launch(opts: LaunchOptions): Promise<RunningKernel> {
    const info = await newConnectionInfo(opts.spec.name);
    const kernel = new RunningKernel(opts.spec, info, opts.env, opts.launchTimeoutMs, opts.log, opts.runtimeDir, opts.id ?? randomUUID());
    opts.track?.(kernel);
    try {
      await kernel.startProcess();
      return kernel;
    } catch (err) {
      await kernel.shutdown(true);
      throw err;
    }
  }

  model(): KernelModel {
    return {
      id: this.id,
      name: this.name,
      last_activity: isoNow(this.lastActivity),
      execution_state: this.executionState,
      connections: this.connections,
    };
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get isEnding(): boolean {
    return this.ending;
  }

  touch(): void {
    this.lastActivity = new Date();
  }

  /** Whether the process is running and not being ended (a dead one may not have been reported yet). */
  get alive(): boolean {
    const p = this.process;
    return !this.ending && this.executionState !== 'dead' && p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  /** A kernel started ahead of time is handed out: from now on it is as new as a fresh one
   *  (its uptime and idle time count from here, so the culler does not see it as old). */
  markStarted(): void {
    this.startedAt = new Date();
    this.touch();
  }

  /** Sends a client's message; while the kernel (re)starts it waits until iopub is connected,
   *  so that no output of it is published before the gateway can hear it. */
  async send(channel: RequestChannel, msg: RawMessage): Promise<void> {
    this.touch();
    while (this.starting) await this.starting;
    return this.channels.send(channel, msg);
  }

  heartbeat(timeoutMs: number): Promise<boolean> {
    return this.channels.heartbeat(timeoutMs);
  }

  /** Sends a request of the gateway's own and waits for its reply (undefined on timeout). */
  async request(channel: RequestChannel, msgType: string, content: Record<string, unknown>, timeoutMs: number): Promise<RawMessage | undefined> {
    const msg = makeMessage(msgType, content, this.session);
    const reply = new Promise<RawMessage | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg.header.msg_id);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(msg.header.msg_id, (r) => {
        clearTimeout(timer);
        this.pending.delete(msg.header.msg_id);
        resolve(r);
      });
    });
    await this.channels.send(channel, RawMessage.fromMessage(msg)).catch(() => undefined);
    return reply;
  }

  private onMessage(channel: Channel, msg: RawMessage): void {
    if (channel === 'iopub') {
      this.touch();
      if (msg.msgType === 'status') {
        const state = msg.contentJson().execution_state;
        if (typeof state === 'string' && state !== this.executionState) {
          this.executionState = state;
          this.emit('state', state);
        }
      }
    }
    const parent = msg.parentMsgId;
    const waiter = parent !== undefined && channel !== 'iopub' ? this.pending.get(parent) : undefined;
    if (waiter) return waiter(msg);
    this.emit('message', channel, msg);
  }

  private async startProcess(): Promise<void> {
    const started = this.spawnAndWait();
    // Client sends wait for this; a failed start lets them through to fail on their own.
    this.starting = started.catch(() => undefined).finally(() => {
      if (this.starting === gate) this.starting = undefined;
    });
    const gate = this.starting;
    return started;
  }

  private async spawnAndWait(): Promise<void> {
    if (this.ending) throw new KernelLaunchError(`Kernel ${this.id} is shutting down`);
    const argv = this.spec.spec.argv.map((a) => a.replaceAll('{connection_file}', this.connectionFile).replaceAll('{resource_dir}', this.spec.resourceDir));
    this.executionState = 'starting';
    this.expectingExit = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      env: this.env,
      // Its own process group, so signals reach the kernel and its children, not us.
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.process = child;
    const failedToSpawn = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new KernelLaunchError(`Could not start kernel "${this.name}" (${argv[0]}): ${err.message}`, { cause: err })));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.process === child && !this.expectingExit && !this.ending) {
          this.log.warn(`Kernel ${this.id} (${this.name}) died: ${signal ? `signal ${signal}` : `exit code ${code}`}`);
          this.executionState = 'dead';
          this.emit('died', code, signal);
        }
        resolve();
      });
      child.once('error', () => resolve());
    });
    const exitedEarly = this.exited.then(() => {
      throw new KernelExitedEarlyError(`Kernel "${this.name}" exited during start-up (exit code ${child.exitCode ?? child.signalCode})`);
    });
    failedToSpawn.catch(() => undefined);
    exitedEarly.catch(() => undefined);
    await Promise.race([this.waitReady(), failedToSpawn, exitedEarly]);
  }

  /** kernel_info_request until both the shell reply and an iopub message have arrived. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + this.launchTimeoutMs;
    while (Date.now() < deadline && !this.ending && this.process?.exitCode === null && this.process.signalCode === null) {
      const msg = makeMessage('kernel_info_request', {}, this.session);
      let sawIopub = false;
      const onIopub = (channel: Channel, m: RawMessage): void => {
        if (channel === 'iopub' && m.parentMsgId === msg.header.msg_id) sawIopub = true;
      };
      this.channels.on('message', onIopub);
      const reply = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.min(1000, Math.max(1, deadline - Date.now())));
        this.pending.set(msg.header.msg_id, () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      await this.channels.send('shell', RawMessage.fromMessage(msg)).catch(() => undefined);
      const replied = await reply;
      this.pending.delete(msg.header.msg_id);
      if (replied && !sawIopub) await new Promise((r) => setTimeout(r, 50));
      this.channels.off('message', onIopub);
      if (replied && sawIopub) {
        if (!(await this.channels.whenConnected(Math.max(1, Math.min(CHANNELS_CONNECT_MS, deadline - Date.now()))))) {
          throw new KernelChannelsUnreachableError(`Kernel "${this.name}" answered on shell but not all of control and stdin could be reached`);
        }
        if (this.executionState === 'starting') this.executionState = 'idle';
        return;
      }
    }
    if (this.process?.exitCode !== null || this.process?.signalCode !== null) return; // exitedEarly reports it
    if (this.ending) throw new KernelLaunchError(`Kernel ${this.id} was shut down while starting`);
    throw new KernelLaunchError(`Kernel "${this.name}" did not answer kernel_info_request within ${Math.round(this.launchTimeoutMs / 1000)} s`);
  }

  async interrupt(): Promise<void> {
    this.touch();
    if (this.spec.spec.interrupt_mode === 'message') {
      await this.request('control', 'interrupt_request', {}, 5000);
    } else {
      this.signal('SIGINT');
    }
  }

  /** Ends the current process and starts a fresh one under the same id and connection info.
   *  A restart asked for while one runs joins it. */
  restart(reason: RestartReason = 'requested'): Promise<void> {
    if (this.ending) return Promise.reject(new KernelLaunchError(`Kernel ${this.id} is shutting down`));
    this.restarting ??= this.restartOnce(reason).finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private async restartOnce(reason: RestartReason): Promise<void> {
    this.restarts++;
    this.emit('restarting', reason);
    this.executionState = 'restarting';
    // Client messages wait from now until the new process is ready (none reach the old one).
    let release!: () => void;
    const stopping = new Promise<void>((resolve) => (release = resolve));
    this.starting = stopping;
    try {
      await this.stopProcess(true);
      const started = this.startProcess(); // installs its own gate before ours opens
      release();
      await started;
    } finally {
      release();
      if (this.starting === stopping) this.starting = undefined;
    }
  }

  /** Ends the kernel for good: shutdown_request, a grace period, then SIGKILL. A restart in
   *  flight is let finish (it stops early, seeing the kernel end) before the process is ended. */
  shutdown(now = false): Promise<void> {
    if (this.ended) return this.ended;
    this.ending = true;
    // Set before 'ending' is emitted: a listener that calls shutdown() joins this one.
    this.ended = (async () => {
      await Promise.resolve();
      try {
        await this.restarting?.catch(() => undefined);
        await this.stopProcess(false, now);
      } finally {
        this.executionState = 'dead';
        this.channels.close();
        removeConnectionFile(this.connectionFile);
        for (const resolve of this.pending.values()) resolve(RawMessage.fromMessage(makeMessage('gateway_shutdown', {}, this.session)));
        this.removeAllListeners('message');
      }
    })();
    this.emit('ending');
    return this.ended;
  }

  private async stopProcess(restart: boolean, now = false): Promise<void> {
    const child = this.process;
    const exited = this.exited;
    if (!child || !exited) return;
    this.expectingExit = true;
    if (child.exitCode === null && child.signalCode === null) {
      if (!now) {
        void this.request('control', 'shutdown_request', { restart }, SHUTDOWN_WAIT_MS);
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (grace = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
        clearTimeout(grace);
      }
      signalGroup(child, 'SIGKILL');
      await exited;
    }
    // Children the kernel left in its group go too (this child's group, never a newer one's).
    signalGroup(child, 'SIGKILL');
  }

  /** Signals the current process's group. */
  signal(sig: NodeJS.Signals): void {
    if (this.process) signalGroup(this.process, sig);
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
