// One kernel the gateway runs: the conversation with it (its ZeroMQ channels, the state Jupyter
// clients see: execution_state, last_activity, connections), its restarts and its end. Where its
// process runs is its provisioner's (provisioners/): local, in a container, on another host.
// Its lifecycle is one explicit state, set before the event that announces it is emitted:
//   launching -> ready <-> restarting;  any -> ending -> ended.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Channel } from '../protocol/message.js';
import { isoNow, makeMessage } from '../protocol/message.js';
import { RawMessage } from '../protocol/wire.js';
import type { ConnectionInfo } from './connection-file.js';
import { KernelChannels, type RequestChannel } from './kernel-channels.js';
import type { KernelSpecEntry } from './kernelspecs.js';
import type { Logger } from './logger.js';
import type { KernelModel } from './rest-models.js';
import { LOCAL_PROVISIONER, LocalProvisioner } from './provisioners/local-provisioner.js';
import type { KernelLocation, KernelProvisioner, LaunchedProcess, ProcessDescription, ProcessEnd } from './provisioners/provisioner.js';
import { KernelLaunchError, KernelExitedEarlyError, KernelChannelsUnreachableError } from '../errors.js';

export type { KernelModel } from './rest-models.js';

export interface LaunchOptions {
  id?: string;
  spec: KernelSpecEntry;
  env: Record<string, string>;
  /** The request's kept variables (see LaunchRequest.requestEnv). */
  requestEnv?: Record<string, string>;
  /** Where the connection file of a local kernel goes. */
  runtimeDir: string;
  /** How long a launch (the first, and each restart) may take to answer kernel_info_request. */
  launchTimeoutMs: number;
  /** When the first launch must be ready by, if sooner (a retry gets what its start has left);
   *  restarts still get launchTimeoutMs in full. */
  deadline?: number;
  log: Logger;
  /** Where the process runs (default: a local child process). */
  provisioner?: KernelProvisioner;
  /** Told of the kernel as soon as it exists, before it is ready (so it can be ended if need be). */
  track?: (kernel: RunningKernel) => void;
}

/** A kernel a previous gateway process started, to be re-attached (availability_mode). */
export interface AdoptOptions {
  id: string;
  spec: KernelSpecEntry;
  env: Record<string, string>;
  requestEnv: Record<string, string>;
  launchTimeoutMs: number;
  log: Logger;
  provisioner: KernelProvisioner;
  description: ProcessDescription;
  connectionInfo: ConnectionInfo;
  startedAt: Date;
  restarts: number;
  /** How long the kernel may take to answer its heartbeat and a kernel_info_request. */
  verifyTimeoutMs: number;
}

/** gone: no such process any more; unanswered: it is there but does not answer (hung, or its key
 *  is not the recorded one), `kernel` then holds it, to be ended. */
export type Adoption = { outcome: 'adopted'; kernel: RunningKernel } | { outcome: 'gone' } | { outcome: 'unanswered'; kernel: RunningKernel };

/** What the kernel store keeps of a kernel (see persistence/kernel-record.ts). */
export interface PersistableKernel {
  description: ProcessDescription;
  connectionInfo: ConnectionInfo;
  env: Record<string, string>;
  requestEnv: Record<string, string>;
}

/** launching: the first start; ready: serving (or left as a failed restart left it); restarting;
 *  ending: shutdown() runs; ended: nothing of it is left. */
export type KernelLifecycle = 'launching' | 'ready' | 'restarting' | 'ending' | 'ended';

/** One launch of the process and what the kernel knows of it. */
interface Launch extends LaunchedProcess {
  /** The gateway is ending this process: its exit is no death. */
  stopping: boolean;
  over: boolean;
}

/** How long a kernel that answers on shell may take to accept its stdin channel. */
const CHANNELS_CONNECT_MS = 10_000;
/** How long readiness waits, after a kernel_info_reply, for the iopub message of that request
 *  before it asks again (the message is lost if the SUB socket was not connected yet). */
const IOPUB_AFTER_REPLY_MS = 20;

/** 'requested': REST restart (the client knows); 'died': the automatic restart after a death. */
export type RestartReason = 'requested' | 'died';

export interface RunningKernelEvents {
  /** Every message from the kernel, after the kernel's own bookkeeping. */
  message: [channel: Channel, msg: RawMessage];
  /** The process ended without the gateway asking it to. */
  died: [code: number | null, signal: NodeJS.Signals | null];
  /** A restart begins; after a death, clients should see iopub `status: restarting`. */
  restarting: [reason: RestartReason];
  /** A restart brought up a new process (the kernel store records it). */
  relaunched: [];
  /** A launch's or restart's process exists (it has not answered yet). */
  'process-up': [];
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
  private lifecycle: KernelLifecycle = 'launching';
  private current?: Launch;
  private channels?: KernelChannels;
  /** What `channels` were opened with. */
  private channelsInfo?: ConnectionInfo;
  private readonly pending = new Map<string, (msg: RawMessage) => void>();
  /** Set while the process starts or restarts: client messages wait for it (see send). */
  private gate?: Promise<void>;
  /** The restart in flight: a second restart joins it, shutdown waits for it. */
  private restarting?: Promise<void>;
  private ended?: Promise<void>;

  private constructor(
    readonly spec: KernelSpecEntry,
    private readonly provisioner: KernelProvisioner,
    private readonly env: Record<string, string>,
    private readonly requestEnv: Record<string, string>,
    private readonly launchTimeoutMs: number,
    private readonly log: Logger,
    id: string,
  ) {
    super();
    this.id = id;
    this.name = spec.name;
  }

  /** Starts a kernel and resolves once it answers kernel_info_request; cleans up on failure. */
  static async launch(opts: LaunchOptions): Promise<RunningKernel> {
    const provisioner = opts.provisioner ?? new LocalProvisioner(opts.runtimeDir);
    const kernel = new RunningKernel(opts.spec, provisioner, opts.env, opts.requestEnv ?? {}, opts.launchTimeoutMs, opts.log, opts.id ?? randomUUID());
    opts.track?.(kernel);
    try {
      await kernel.holdSends(kernel.runProcess(opts.deadline));
      if (kernel.lifecycle === 'launching') kernel.lifecycle = 'ready';
      return kernel;
    } catch (err) {
      await kernel.shutdown(true);
      throw err;
    }
  }

  /** Re-attaches a kernel whose process a previous gateway started: the provisioner finds the
   *  process, then the kernel must answer its heartbeat and a signed kernel_info_request. */
  static async adopt(opts: AdoptOptions): Promise<Adoption> {
    const kernel = new RunningKernel(opts.spec, opts.provisioner, opts.env, opts.requestEnv, opts.launchTimeoutMs, opts.log, opts.id);
    kernel.startedAt = opts.startedAt;
    kernel.restarts = opts.restarts;
    const launched = await opts.provisioner.reattach({ kernelId: opts.id, spec: opts.spec, description: opts.description, connectionInfo: opts.connectionInfo, log: opts.log });
    if (!launched) return { outcome: 'gone' };
    const launch: Launch = { ...launched, stopping: false, over: false };
    kernel.current = launch;
    void launched.ended.then((end) => kernel.onProcessEnd(launch, end));
    kernel.useChannels(launched.connectionInfo);
    const answered = (await kernel.heartbeat(opts.verifyTimeoutMs)) && (await kernel.answersKernelInfo(opts.verifyTimeoutMs));
    if (!answered || launch.over) return { outcome: 'unanswered', kernel };
    kernel.lifecycle = 'ready';
    if (kernel.executionState === 'starting') kernel.executionState = 'idle';
    return { outcome: 'adopted', kernel };
  }

  /** A signed reply proves the kernel holds the recorded key. Control first: a kernel busy
   *  with a long cell answers there at once (ipykernel does), shell otherwise. */
  private async answersKernelInfo(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (await this.request('control', 'kernel_info_request', {}, Math.min(3000, timeoutMs))) return true;
    return (await this.request('shell', 'kernel_info_request', {}, Math.max(1, deadline - Date.now()))) !== undefined;
  }

  /** What the kernel store needs to find and talk to this kernel again (undefined while no
   *  process runs). */
  persistable(): PersistableKernel | undefined {
    const description = this.provisioner.describe();
    if (!description || !this.channelsInfo) return undefined;
    return { description, connectionInfo: this.channelsInfo, env: this.env, requestEnv: this.requestEnv };
  }

  /** Lets go of the kernel and leaves its process running (the gateway stops, or another
   *  gateway ended or took it): channels closed, nothing ended. */
  release(): void {
    if (this.lifecycle === 'ended') return;
    this.lifecycle = 'ended';
    if (this.current) this.current.stopping = true;
    this.channels?.close();
    this.provisioner.release();
    for (const resolve of this.pending.values()) resolve(RawMessage.fromMessage(makeMessage('gateway_shutdown', {}, this.session)));
    this.removeAllListeners('message');
    this.ended = Promise.resolve(); // a later shutdown() has nothing to end
  }

  get state(): KernelLifecycle {
    return this.lifecycle;
  }

  model(): KernelModel {
    const model: KernelModel = {
      id: this.id,
      name: this.name,
      last_activity: isoNow(this.lastActivity),
      execution_state: this.executionState,
      connections: this.connections,
    };
    // Jupyter's model, unchanged, for local kernels; where it runs for the others.
    const { pid: _pid, ...where } = this.provisioner.location();
    if (where.provisioner !== LOCAL_PROVISIONER) model.location = Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined)) as KernelModel['location'];
    return model;
  }

  /** The provisioner's name (metrics label) and where the process runs. */
  get provisionerName(): string {
    return this.provisioner.name;
  }

  location(): KernelLocation {
    return this.provisioner.location();
  }

  /** The local process id (undefined for kernels elsewhere). */
  get pid(): number | undefined {
    return this.provisioner.location().pid;
  }

  get isEnding(): boolean {
    return this.lifecycle === 'ending' || this.lifecycle === 'ended';
  }

  touch(): void {
    this.lastActivity = new Date();
  }

  /** Whether the process is running and not being ended (a dead one may not have been reported yet). */
  get alive(): boolean {
    return this.lifecycle === 'ready' && this.executionState !== 'dead' && this.current !== undefined && !this.current.over;
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
    while (this.gate) await this.gate;
    if (!this.channels) throw new KernelLaunchError(`Kernel ${this.id} has no running process`);
    return this.channels.send(channel, msg);
  }

  heartbeat(timeoutMs: number): Promise<boolean> {
    return this.channels ? this.channels.heartbeat(timeoutMs) : Promise.resolve(false);
  }

  /** Sends a request of the gateway's own and waits for its reply (undefined on timeout). */
  async request(channel: RequestChannel, msgType: string, content: Record<string, unknown>, timeoutMs: number): Promise<RawMessage | undefined> {
    const channels = this.channels;
    if (!channels) return undefined;
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
    await channels.send(channel, RawMessage.fromMessage(msg)).catch(() => undefined);
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

  /** Client sends wait while `work` runs; a failed start lets them through to fail on their own. */
  private holdSends<T>(work: Promise<T>): Promise<T> {
    const gate: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (this.gate === gate) this.gate = undefined;
    });
    this.gate = gate;
    return work;
  }

  /** Channels to the process just launched: the same sockets when it kept its ports and key. */
  private useChannels(info: ConnectionInfo): void {
    const same = (a: ConnectionInfo, b: ConnectionInfo): boolean => a.ip === b.ip && a.key === b.key && a.shell_port === b.shell_port && a.iopub_port === b.iopub_port && a.stdin_port === b.stdin_port && a.control_port === b.control_port && a.hb_port === b.hb_port;
    if (this.channels && this.channelsInfo && same(this.channelsInfo, info)) return;
    this.channels?.close();
    // Cleared first: if the new sockets cannot be made (out of fds), no closed channels are left
    // for sends to use, and the start (whose process is then ended) or restart fails.
    this.channels = undefined;
    this.channelsInfo = undefined;
    this.channels = new KernelChannels(info, this.log);
    this.channelsInfo = info;
    this.channels.on('message', (channel, msg) => this.onMessage(channel, msg));
  }

  /** Launches the process through the provisioner and waits until it answers. */
  private async runProcess(deadline = Date.now() + this.launchTimeoutMs): Promise<void> {
    if (this.isEnding) throw new KernelLaunchError(`Kernel ${this.id} is shutting down`);
    this.executionState = 'starting';
    const launched = await this.provisioner.launch({ kernelId: this.id, spec: this.spec, env: this.env, requestEnv: this.requestEnv, timeoutMs: Math.max(1, deadline - Date.now()), log: this.log });
    const launch: Launch = { ...launched, stopping: false, over: false };
    this.current = launch;
    void launched.ended.then((end) => this.onProcessEnd(launch, end));
    this.useChannels(launched.connectionInfo);
    // The process exists from here on: the kernel store can name it before it answers.
    this.emit('process-up');
    const exitedEarly = launched.ended.then((end) => {
      throw end.error ?? new KernelExitedEarlyError(`Kernel "${this.name}" exited during start-up (exit code ${end.code ?? end.signal})`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([this.waitReady(launch, deadline), exitedEarly]);
  }

  private onProcessEnd(launch: Launch, end: ProcessEnd): void {
    launch.over = true;
    if (launch !== this.current || launch.stopping || this.isEnding || this.lifecycle === 'launching') return;
    this.log.warn(`Kernel ${this.id} (${this.name}) died: ${end.signal ? `signal ${end.signal}` : `exit code ${end.code}`}`);
    this.executionState = 'dead';
    this.emit('died', end.code, end.signal as NodeJS.Signals | null);
  }

  /** kernel_info_request until both the shell reply and an iopub message have arrived. */
  private async waitReady(launch: Launch, deadline: number): Promise<void> {
    const channels = this.channels!;
    // Any iopub message answering any of these requests proves the SUB socket connected, even
    // one that comes late, after the next request went out.
    const asked = new Set<string>();
    let sawIopub = false;
    let replied = false;
    let iopubArrived = (): void => undefined;
    const onIopub = (channel: Channel, m: RawMessage): void => {
      const parent = m.parentMsgId;
      if (channel !== 'iopub' || parent === undefined || !asked.has(parent)) return;
      sawIopub = true;
      iopubArrived();
    };
    channels.on('message', onIopub);
    try {
      while (Date.now() < deadline && !this.isEnding && !launch.over) {
        const msg = makeMessage('kernel_info_request', {}, this.session);
        asked.add(msg.header.msg_id);
        const reply = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), Math.min(1000, Math.max(1, deadline - Date.now())));
          this.pending.set(msg.header.msg_id, () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        await channels.send('shell', RawMessage.fromMessage(msg)).catch(() => undefined);
        if (await reply) replied = true;
        this.pending.delete(msg.header.msg_id);
        // The reply came; its iopub status follows at once if the SUB socket is connected, and
        // never if it was not yet (PUB drops messages for absent subscribers): wait for it only
        // briefly, then ask again.
        if (replied && !sawIopub) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, IOPUB_AFTER_REPLY_MS);
            iopubArrived = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          iopubArrived = () => undefined;
        }
        if (replied && sawIopub) {
          if (!(await channels.whenConnected(Math.max(1, Math.min(CHANNELS_CONNECT_MS, deadline - Date.now()))))) {
            throw new KernelChannelsUnreachableError(`Kernel "${this.name}" answered on shell but its stdin channel could not be reached`);
          }
          if (this.executionState === 'starting') this.executionState = 'idle';
          return;
        }
      }
    } finally {
      channels.off('message', onIopub);
    }
    if (launch.over) return; // exitedEarly reports it
    if (this.isEnding) throw new KernelLaunchError(`Kernel ${this.id} was shut down while starting`);
    throw new KernelLaunchError(`Kernel "${this.name}" did not answer kernel_info_request within ${Math.round(this.launchTimeoutMs / 1000)} s`);
  }

  async interrupt(): Promise<void> {
    this.touch();
    if (this.spec.spec.interrupt_mode === 'message') {
      await this.request('control', 'interrupt_request', {}, 5000);
    } else {
      await this.provisioner.signal('SIGINT');
    }
  }

  /** Ends the current process and starts a fresh one under the same id (local kernels: the same
   *  ports and key). A restart asked for while one runs joins it. */
  restart(reason: RestartReason = 'requested'): Promise<void> {
    if (this.isEnding) return Promise.reject(new KernelLaunchError(`Kernel ${this.id} is shutting down`));
    this.restarting ??= this.restartOnce(reason).finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private async restartOnce(reason: RestartReason): Promise<void> {
    this.restarts++;
    this.lifecycle = 'restarting';
    this.emit('restarting', reason);
    this.executionState = 'restarting';
    // Client messages wait from now until the new process is ready (none reach the old one).
    try {
      await this.holdSends(
        (async () => {
          await this.stopProcess(true);
          await this.runProcess();
          this.emit('relaunched');
        })(),
      );
    } finally {
      if (this.lifecycle === 'restarting') this.lifecycle = 'ready';
    }
  }

  /** Ends the kernel for good: shutdown_request, a grace period, then a kill, then the
   *  provisioner's cleanup. A restart in flight is let finish (it stops early, seeing the kernel
   *  end) before the process is ended. */
  shutdown(now = false): Promise<void> {
    if (this.ended) return this.ended;
    this.lifecycle = 'ending';
    // Set before 'ending' is emitted: a listener that calls shutdown() joins this one.
    this.ended = (async () => {
      await Promise.resolve();
      try {
        await this.restarting?.catch(() => undefined);
        await this.stopProcess(false, now);
      } finally {
        this.executionState = 'dead';
        this.channels?.close();
        await this.provisioner.cleanup(false).catch((err: Error) => this.log.warn(`Kernel ${this.id}: cleanup failed: ${err.message}`));
        for (const resolve of this.pending.values()) resolve(RawMessage.fromMessage(makeMessage('gateway_shutdown', {}, this.session)));
        this.removeAllListeners('message');
        this.lifecycle = 'ended';
      }
    })();
    this.emit('ending');
    return this.ended;
  }

  private async stopProcess(restart: boolean, now = false): Promise<void> {
    const launch = this.current;
    if (!launch) return;
    launch.stopping = true;
    if (!launch.over && !now) {
      void this.request('control', 'shutdown_request', { restart }, SHUTDOWN_WAIT_MS);
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([launch.ended, new Promise((r) => (grace = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
      clearTimeout(grace);
    }
    await this.provisioner.kill();
    if (restart) await this.provisioner.cleanup(true);
  }

  /** Signals the current process (and its children). */
  signal(sig: NodeJS.Signals): void {
    void this.provisioner.signal(sig).catch((err: Error) => this.log.warn(`Kernel ${this.id}: could not send ${sig}: ${err.message}`));
  }

  /** Last resort at gateway exit: kills what can be killed synchronously. */
  killNow(): void {
    this.provisioner.killNow();
  }
}
