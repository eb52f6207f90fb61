// All kernels of one gateway: starting them (kernel name policy, max_kernels counted
// atomically with launches in flight and warm pool kernels), finding, restarting and ending
// them, and restarting a kernel that dies on its own. A start is served from the warm pool
// (warm-pool.ts) when it has a ready kernel the start may take. Knows nothing of HTTP.
import { EventEmitter } from 'node:events';
import { kernelEnvironment, keptRequestVariables, type KernelEnvPolicy } from './kernel-env.js';
import type { KernelSpecEntry, KernelSpecManager } from './kernelspecs.js';
import type { Logger } from './logger.js';
import * as metrics from '../observability/metrics.js';
import { RunningKernel, type LaunchOptions, type RestartReason } from './running-kernel.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { seedKernel, type SeedPlan } from './seeding.js';
import { WarmPool, type EnvFlavour, type WarmPoolHost, type WarmPoolStatus, type WarmStart } from './warm-pool.js';
import { LocalProvisioner, LOCAL_PROVISIONER } from './provisioners/local-provisioner.js';
import { ProvisionerRegistry } from './provisioners/registry.js';
import type { KernelProvisioner } from './provisioners/provisioner.js';
import type { KernelStore } from './persistence/kernel-store.js';
import { KERNEL_RECORD_VERSION, parseKernelRecord, type KernelRecord } from './persistence/kernel-record.js';
import { createHash } from 'node:crypto';
import { descriptorShortage, isOutOfDescriptors } from './descriptors.js';
import { KernelLaunchError, RetryableLaunchError, NoSuchKernelSpecError, KernelLimitError, UnknownProvisionerError, OutOfFileDescriptorsError } from '../errors.js';

/** A retry of a failed start is not worth it with less than this left of the launch timeout. */
const MIN_RETRY_MS = 1000;

export interface KernelManagerOptions {
  specs: KernelSpecManager;
  defaultKernelName: string;
  forceKernelName?: string;
  maxKernels?: number;
  runtimeDir: string;
  launchTimeoutMs: number;
  /** What a kernel inherits from the gateway (env_process_whitelist); the request side is per start. */
  envPolicy: Pick<KernelEnvPolicy, 'processWhitelist'>;
  log: Logger;
  /** Automatic restarts allowed per kernel within restartWindowMs before it is given up. */
  restartLimit?: number;
  restartWindowMs?: number;
  /** Heartbeat period in ms (0: no heartbeat checks). */
  heartbeatIntervalMs?: number;
  gatewayEnv?: NodeJS.ProcessEnv;
  /** Ready kernels to keep per kernelspec (warm_pool), and the request variables a pool
   *  kernel may be handed out without (warm_pool_ignored_env). */
  warmPool?: { targets: Record<string, number>; ignoredEnv: string[]; concurrency?: number };
  /** The provisioners kernelspecs may name (default: the local one only). */
  provisioners?: ProvisionerRegistry;
  /** availability_mode: every kernel is written down in `store` and outlives this process;
   *  `replication`: other gateways share the store and serve its kernels too. */
  persistence?: { store: KernelStore; mode: AvailabilityMode; gatewayId: string };
}

export type AvailabilityMode = 'standalone' | 'replication';

/** What re-adopting the store's kernels found. */
export interface AdoptionReport {
  adopted: RunningKernel[];
  /** Kernels whose process was gone, or that did not answer (ended). */
  dropped: string[];
  /** Records that could not be read (left alone, with a warning). */
  skipped: string[];
}

/** How long a re-attached kernel may take to answer its heartbeat and kernel_info. */
const ADOPT_VERIFY_MS = 10_000;

export interface StartRequest {
  name?: string;
  env?: Record<string, string>;
  /**
   * Variables of `env` besides KERNEL_* that may reach the kernel: the starting personality's
   * policy (jupyter-websocket's env_whitelist); none when unset.
   */
  envWhitelist?: string[];
}

export interface KernelManagerEvents {
  /** A kernel is there for clients: just started, or handed out by the warm pool (`warm`). */
  started: [kernel: RunningKernel, durationMs: number, warm: boolean];
  /** A start that got as far as launching failed. */
  'start-failed': [kernelName: string, error: Error];
  restarting: [kernel: RunningKernel, reason: RestartReason];
  died: [kernel: RunningKernel];
  /** The idle culler is about to shut the kernel down. */
  culled: [kernel: RunningKernel];
  removed: [kernel: RunningKernel];
}

export class KernelManager extends EventEmitter<KernelManagerEvents> {
  private readonly kernels = new Map<string, RunningKernel>();
  private launching = 0;
  private readonly restartTimes = new Map<string, number[]>();
  private readonly heartbeats = new Map<string, HeartbeatMonitor>();
  /** Warm pool kernels (ready, not yet handed out): counted against max_kernels, not listed. */
  private readonly held = new Set<RunningKernel>();
  private readonly warm?: WarmPool;
  /** Every kernel from spawn until its process is ended: launching and ending ones included. */
  private readonly live = new Set<RunningKernel>();
  private closing = false;
  private seed?: SeedPlan;

  private readonly provisioners: ProvisionerRegistry;
  /** What each kernel was seeded with (a fingerprint of the seed's cells), so that a kernel
   *  re-adopted from the store is known to have run the current seed notebook, or not. */
  private readonly seededWith = new Map<string, string>();
  /** Hydrations in flight (replication), so that two requests for one kernel attach it once. */
  private readonly hydrating = new Map<string, Promise<RunningKernel | undefined>>();

  constructor(private readonly opts: KernelManagerOptions) {
    super();
    this.provisioners = opts.provisioners ?? new ProvisionerRegistry({ [LOCAL_PROVISIONER]: () => new LocalProvisioner(opts.runtimeDir) });
    // Kernelspecs naming a provisioner we lack stay listed; say so once, at start-up.
    for (const entry of opts.specs.findAll().values()) {
      const problem = this.provisioners.problem(entry);
      if (problem) opts.log.warn(`${problem}: starting it will fail`);
    }
    const pool = opts.warmPool;
    if (pool && Object.values(pool.targets).some((n) => n > 0)) {
      const host: WarmPoolHost = { launchHeld: (name, flavour) => this.launchHeld(name, flavour), discardHeld: (k) => this.discardHeld(k), hasRoom: () => this.hasRoom() };
      this.warm = new WarmPool(host, pool.targets, opts.log, pool.concurrency);
    }
  }

  /** Code cells to run in every new kernel of one kernelspec (seed_uri). */
  setSeed(plan: SeedPlan | undefined): void {
    this.seed = plan;
  }

  /** Whether the kernel ran exactly the seed a new kernel of its kernelspec would run now (a
   *  kernel re-adopted from before a change of seed_uri did not). */
  seedMatches(kernel: RunningKernel): boolean {
    return this.seededWith.get(kernel.id) === (this.seed ? seedFingerprint(this.seed, kernel.name) : undefined);
  }

  /** The kernelspec name a start request resolves to (force > request > default). */
  resolveName(requested?: string): string {
    return (this.opts.forceKernelName || requested || this.opts.defaultKernelName).toLowerCase();
  }

  async start(request: StartRequest = {}): Promise<RunningKernel> {
    const name = this.resolveName(request.name);
    const spec = this.opts.specs.get(name);
    if (!spec) throw new NoSuchKernelSpecError(`No such kernel named ${name}`);
    if (this.closing) throw new KernelLaunchError('The gateway is shutting down');
    const t0 = Date.now();
    // Everything up to launching++ runs in this turn: a ready pool kernel, or a place under
    // max_kernels, is claimed before any other start or refill can take it.
    const warm = this.warm?.take(name, this.warmStart(request));
    if (warm) return this.handOut(warm, t0);
    if (!this.hasRoom() && !this.warm?.giveWay()) {
      throw new KernelLimitError(`Maximum number of kernels (${this.opts.maxKernels}) reached`);
    }
    this.checkDescriptors();
    this.launching++;
    try {
      const kernel = await this.launchSeeded(spec, request.env, request.envWhitelist ?? []);
      this.register(kernel, t0, false);
      return kernel;
    } catch (err) {
      metrics.kernelStartFailures.inc({ kernelspec: name, provisioner: this.provisioners.nameFor(spec) });
      this.emit('start-failed', name, err as Error);
      throw err;
    } finally {
      this.launching--;
      this.warm?.refill();
    }
  }

  /** Refuses a start that would leave the gateway too few fds for its clients (503), counting
   *  the starts under way: in the same turn as launching++, like max_kernels. */
  private checkDescriptors(): void {
    const shortage = descriptorShortage(this.launching);
    if (shortage) throw new OutOfFileDescriptorsError(shortage);
  }

  /** Whether one more kernel fits under max_kernels: running, launching and pool kernels count. */
  private hasRoom(): boolean {
    const max = this.opts.maxKernels;
    return max === undefined || max === null || this.kernels.size + this.launching + this.held.size < max;
  }

  /** How the warm pool sees a start: the env flavour it needs, and whether its kept env is
   *  only variables the pool may ignore. */
  private warmStart(request: StartRequest): WarmStart {
    const kept = keptRequestVariables(request.env, request.envWhitelist ?? []);
    const ignored = this.opts.warmPool?.ignoredEnv ?? [];
    return { flavour: request.env === undefined ? 'inherited' : 'restricted', compatible: kept.every((v) => ignored.includes(v)) };
  }

  /** Launches and seeds a kernel; it is ended again if either fails or the gateway is closing. */
  private async launchSeeded(spec: KernelSpecEntry, requestEnv: Record<string, string> | undefined, requestWhitelist: string[]): Promise<RunningKernel> {
    const problem = this.provisioners.problem(spec);
    if (problem) throw new UnknownProvisionerError(problem);
    const policy = { processWhitelist: this.opts.envPolicy.processWhitelist, requestWhitelist };
    const env = kernelEnvironment(this.opts.gatewayEnv ?? process.env, requestEnv, spec.spec.env, policy, this.opts.persistence ? null : process.pid);
    const kept = Object.fromEntries(keptRequestVariables(requestEnv, requestWhitelist).map((name) => [name, String(requestEnv![name])]));
    const kernel = await this.launchWithRetry({ spec, env, requestEnv: kept, runtimeDir: this.opts.runtimeDir, launchTimeoutMs: this.launchTimeout(requestEnv), log: this.opts.log, track: (k) => this.track(k) });
    if (this.closing) {
      await kernel.shutdown(true);
      throw new KernelLaunchError('The gateway is shutting down');
    }
    if (this.seed) {
      try {
        await seedKernel(kernel, this.seed);
      } catch (err) {
        await kernel.shutdown(true);
        throw err;
      }
      const fingerprint = seedFingerprint(this.seed, kernel.name);
      if (fingerprint) this.seededWith.set(kernel.id, fingerprint);
    }
    return kernel;
  }

  /** A kernel joins the table: clients can find it, its deaths are restarted, it is announced. */
  private register(kernel: RunningKernel, t0: number, warm: boolean, how: 'started' | 'adopted' | 'hydrated' = 'started'): void {
    this.kernels.set(kernel.id, kernel);
    kernel.on('died', () => {
      metrics.kernelDeaths.inc({ kernelspec: kernel.name, provisioner: kernel.provisionerName });
      this.emit('died', kernel);
      void this.onDied(kernel);
    });
    kernel.on('restarting', (reason) => {
      metrics.kernelRestarts.inc({ kernelspec: kernel.name, provisioner: kernel.provisionerName, reason });
      this.emit('restarting', kernel, reason);
    });
    kernel.on('relaunched', () => {
      this.seededWith.delete(kernel.id); // a restart in place runs no seed
      this.persist(kernel, null);
    });
    if (!this.heartbeats.has(kernel.id)) this.watchHeartbeat(kernel);
    if (how !== 'hydrated') this.persist(kernel, null);
    const durationMs = Date.now() - t0;
    if (how !== 'started') {
      this.opts.log.info(`Kernel ${how === 'adopted' ? 're-adopted' : 'attached from the kernel store'}: ${kernel.id} (${kernel.name}, ${describeLocation(kernel)})`);
      return;
    }
    this.opts.log.info(`Kernel started: ${kernel.id} (${kernel.name}, ${describeLocation(kernel)}${warm ? ', from the warm pool' : ''})`);
    metrics.kernelStarts.inc({ kernelspec: kernel.name, provisioner: kernel.provisionerName });
    metrics.kernelStartDuration.observe({ kernelspec: kernel.name, provisioner: kernel.provisionerName }, durationMs / 1000);
    this.emit('started', kernel, durationMs, warm);
  }

  private watchHeartbeat(kernel: RunningKernel): void {
    this.heartbeats.set(kernel.id, new HeartbeatMonitor(kernel, this.opts.heartbeatIntervalMs ?? 0, (k) => this.onFlatline(k)).start());
  }

  /** A pool kernel becomes a kernel like any other, as if it had just started. */
  private handOut(kernel: RunningKernel, t0: number): RunningKernel {
    this.held.delete(kernel);
    kernel.markStarted();
    this.register(kernel, t0, true);
    return kernel;
  }

  /** For the warm pool: a seeded kernel kept out of the table (not listed, culled or restarted),
   *  counted against max_kernels from the moment it is asked for. */
  private async launchHeld(name: string, flavour: EnvFlavour): Promise<RunningKernel> {
    const spec = this.opts.specs.get(name);
    if (!spec) throw new NoSuchKernelSpecError(`No such kernel named ${name}`);
    if (this.closing) throw new KernelLaunchError('The gateway is shutting down');
    this.checkDescriptors();
    this.launching++;
    try {
      const kernel = await this.launchSeeded(spec, flavour === 'restricted' ? {} : undefined, []);
      this.held.add(kernel);
      this.watchHeartbeat(kernel);
      this.persist(kernel, flavour);
      return kernel;
    } catch (err) {
      metrics.kernelStartFailures.inc({ kernelspec: name, provisioner: this.provisioners.nameFor(spec) });
      this.emit('start-failed', name, err as Error);
      throw err;
    } finally {
      this.launching--;
    }
  }

  private discardHeld(kernel: RunningKernel): Promise<void> {
    this.held.delete(kernel);
    this.unpersist(kernel.id);
    this.heartbeats.get(kernel.id)?.stop();
    this.heartbeats.delete(kernel.id);
    return kernel.shutdown(true);
  }

  /** Starts filling the warm pool (after prespawn_count, which keeps its own meaning). */
  startWarmPool(): void {
    this.warm?.start();
  }

  /** The warm pool's kernelspecs, ready kernels, hits and misses (empty without a pool). */
  warmPoolStatus(): WarmPoolStatus[] {
    return this.warm?.status() ?? [];
  }

  private track(kernel: RunningKernel): void {
    this.live.add(kernel);
    // availability_mode: a record from the moment the process exists, so that a gateway killed
    // during the launch leaves the next one a kernel to end, not one nobody knows of.
    // A restart's new process is written down as soon as it exists too, or a gateway killed
    // while it starts would leave a record naming the old one.
    if (this.opts.persistence) kernel.on('process-up', () => this.persist(kernel, null, kernel.state === 'launching'));
    kernel.once('ending', () => {
      void kernel.shutdown().finally(() => {
        this.live.delete(kernel);
        // Every end of a kernel removes its record (a failed launch's included), once its
        // process is gone: a gateway killed meanwhile leaves the record to end it by.
        if (this.opts.persistence && !this.kernels.has(kernel.id) && !this.held.has(kernel)) this.unpersist(kernel.id);
      });
    });
  }

  /** A kernel that exits during start-up, or whose channels cannot all be reached, is tried
   *  again with fresh ports: something may have taken one of its ports between allocation and
   *  bind. A timeout is not retried. */
  private async launchWithRetry(opts: LaunchOptions, attempts = 3): Promise<RunningKernel> {
    // Retries share the one launch timeout: a start succeeds or fails within it, never later.
    const deadline = Date.now() + opts.launchTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        // A fresh provisioner each attempt: a local one picks fresh ports.
        // The deadline for this attempt only: the kernel keeps launchTimeoutMs for its restarts.
        return await RunningKernel.launch({ ...opts, provisioner: this.provisioners.create(opts.spec), deadline });
      } catch (err) {
        // Running out of fds anywhere in the start (ports, connection file, spawn, sockets) is
        // one answer, 503, and fresh ports would not help.
        if (isOutOfDescriptors(err) && !(err instanceof OutOfFileDescriptorsError)) {
          throw new OutOfFileDescriptorsError(`Out of file descriptors (EMFILE): kernel "${opts.spec.name}" could not be started: ${(err as Error).message}`, { cause: err });
        }
        const left = deadline - Date.now();
        if (!(err instanceof RetryableLaunchError) || attempt >= attempts || left < MIN_RETRY_MS) throw err;
        this.opts.log.warn(`${err.message}; trying again with new ports (attempt ${attempt + 1} of ${attempts}, ${Math.round(left / 1000)} s left)`);
      }
    }
  }

  /** KERNEL_LAUNCH_TIMEOUT (seconds) in the request env may shorten, never lengthen, the limit. */
  private launchTimeout(env?: Record<string, string>): number {
    const asked = Number(env?.KERNEL_LAUNCH_TIMEOUT);
    if (Number.isFinite(asked) && asked > 0) return Math.min(asked * 1000, this.opts.launchTimeoutMs);
    return this.opts.launchTimeoutMs;
  }

  get(id: string): RunningKernel | undefined {
    return this.kernels.get(id);
  }

  list(): RunningKernel[] {
    return [...this.kernels.values()];
  }

  get size(): number {
    return this.kernels.size;
  }

  async shutdown(id: string, now = false): Promise<boolean> {
    const kernel = this.kernels.get(id);
    if (!kernel) return false;
    this.kernels.delete(id);
    this.restartTimes.delete(id);
    this.seededWith.delete(id);
    this.heartbeats.get(id)?.stop();
    this.heartbeats.delete(id);
    // First: another gateway that holds this kernel too sees its record gone, not a death.
    this.unpersist(id);
    await kernel.shutdown(now);
    this.opts.log.info(`Kernel shut down: ${id}`);
    this.emit('removed', kernel);
    this.warm?.refill();
    return true;
  }

  /** Ends every kernel, those still launching too; no kernel starts after this. */
  async shutdownAll(now = false): Promise<void> {
    this.closing = true;
    await Promise.all([...[...this.kernels.keys()].map((id) => this.shutdown(id, now)), this.warm?.close()]);
    await Promise.all([...this.live].map((k) => k.shutdown(true)));
  }

  /** Last resort at process exit: no kernel may outlive the gateway (but those the store keeps
   *  for the next gateway, in availability_mode: only kernels still launching are killed). */
  killAllNow(): void {
    for (const kernel of this.live) if (!this.opts.persistence || kernel.state === 'launching') kernel.killNow();
  }

  /** A kernel whose heartbeat stopped is killed; its death then takes the usual path. */
  private onFlatline(kernel: RunningKernel): void {
    this.opts.log.warn(`Kernel ${kernel.id} stopped answering its heartbeat; treating it as dead`);
    kernel.signal('SIGKILL');
  }

  private async onDied(kernel: RunningKernel): Promise<void> {
    if (!this.kernels.has(kernel.id) || kernel.isEnding) return;
    // Replication: the gateway that launched the process restarts it; the others let go (a
    // kernel shut down through another gateway has no record any more).
    const persistence = this.opts.persistence;
    if (persistence?.mode === 'replication') {
      const record = this.storedRecord(kernel.id);
      if (!record || record.owner !== persistence.gatewayId) {
        this.forget(kernel, record ? 'its process ended and the gateway that launched it restarts it' : 'it was shut down by another gateway');
        return;
      }
    }
    const now = Date.now();
    const window = this.opts.restartWindowMs ?? 60_000;
    const limit = this.opts.restartLimit ?? 5;
    const times = (this.restartTimes.get(kernel.id) ?? []).filter((t) => now - t < window);
    times.push(now);
    this.restartTimes.set(kernel.id, times);
    if (times.length > limit) {
      this.opts.log.error(`Kernel ${kernel.id} died ${times.length} times within ${window / 1000} s (restart_limit ${limit}); it is dead and removed`);
      await this.giveUp(kernel);
      return;
    }
    this.opts.log.warn(`Restarting kernel ${kernel.id} after it died`);
    const t0 = Date.now();
    try {
      await kernel.restart('died');
      this.opts.log.info(`Kernel ${kernel.id} restarted in ${Date.now() - t0} ms`);
    } catch (err) {
      this.opts.log.error(`Kernel ${kernel.id} could not be restarted: ${(err as Error).message}`);
      await this.giveUp(kernel);
    }
  }

  // ---- availability_mode: the kernel store ------------------------------------------------

  get availabilityMode(): AvailabilityMode | undefined {
    return this.opts.persistence?.mode;
  }

  /** The kernel store (availability_mode), where sessions are kept beside their kernels. */
  get store(): KernelStore | undefined {
    return this.opts.persistence?.store;
  }

  /** Writes the kernel's record (this gateway launched its current process). */
  private persist(kernel: RunningKernel, warmPool: EnvFlavour | null, launching = false): void {
    const persistence = this.opts.persistence;
    const p = kernel.persistable();
    if (!persistence || !p || kernel.isEnding) return;
    const now = new Date().toISOString();
    const record: KernelRecord = {
      version: KERNEL_RECORD_VERSION,
      id: kernel.id,
      kernelName: kernel.name,
      provisioner: kernel.provisionerName,
      description: p.description,
      connectionInfo: p.connectionInfo,
      env: p.env,
      requestEnv: p.requestEnv,
      createdAt: kernel.startedAt.toISOString(),
      restarts: kernel.restarts,
      warmPool,
      seed: this.seededWith.get(kernel.id) ?? null,
      launching,
      owner: persistence.gatewayId,
      updatedAt: now,
    };
    try {
      persistence.store.save('kernels', kernel.id, record);
    } catch (err) {
      this.opts.log.error(`Kernel ${kernel.id}: could not write its record to ${persistence.store.location}: ${(err as Error).message}`);
    }
  }

  private unpersist(id: string): void {
    try {
      this.opts.persistence?.store.remove('kernels', id);
    } catch (err) {
      this.opts.log.error(`Kernel ${id}: could not remove its record: ${(err as Error).message}`);
    }
  }

  /** The store's record of a kernel, if it is there and readable. */
  private storedRecord(id: string): KernelRecord | undefined {
    const stored = this.opts.persistence?.store.load('kernels', id);
    if (!stored || 'problem' in stored) return undefined;
    const record = parseKernelRecord(id, stored.value);
    return typeof record === 'string' ? undefined : record;
  }

  /** At start-up: every kernel in the store whose process is still there and answers is served
   *  again under its id (pool kernels back to the pool); the others are ended and dropped. */
  async adoptFromStore(): Promise<AdoptionReport> {
    const report: AdoptionReport = { adopted: [], dropped: [], skipped: [] };
    const persistence = this.opts.persistence;
    if (!persistence) return report;
    const records: KernelRecord[] = [];
    for (const stored of persistence.store.list('kernels')) {
      const record = 'problem' in stored ? stored.problem : parseKernelRecord(stored.id, stored.value);
      if (typeof record === 'string') {
        this.opts.log.warn(`Kernel store ${persistence.store.location}: skipping the record ${stored.id}: ${record}`);
        report.skipped.push(stored.id);
      } else records.push(record);
    }
    await Promise.all(
      records.map(async (record) => {
        // Replication: the other gateways serve these kernels too, so a start-up only attaches
        // them (hydrates), as a request would; it takes over none, pool kernels included.
        if (persistence.mode === 'replication' && record.warmPool !== null) return;
        const kernel = await this.attach(record, persistence.mode !== 'replication');
        if (!kernel) return void report.dropped.push(record.id);
        report.adopted.push(kernel);
      }),
    );
    return report;
  }

  /** Replication: a kernel this gateway does not hold is looked up in the store and attached
   *  (hydrated); one it holds whose record is gone was shut down through another gateway. */
  async hydrate(id: string): Promise<RunningKernel | undefined> {
    const persistence = this.opts.persistence;
    const held = this.kernels.get(id);
    if (persistence?.mode !== 'replication' || this.closing) return held;
    if (held) {
      if (!persistence.store.has('kernels', id) && !held.isEnding) this.forget(held, 'it was shut down by another gateway');
      return this.kernels.get(id);
    }
    let hydrating = this.hydrating.get(id);
    if (!hydrating) {
      hydrating = (async () => {
        const record = this.storedRecord(id);
        return record && record.warmPool === null ? this.attach(record, false) : undefined;
      })().finally(() => this.hydrating.delete(id));
      this.hydrating.set(id, hydrating);
    }
    return hydrating;
  }

  /** Replication: every kernel of the store is served here too (a listing shows them all). */
  async hydrateAll(): Promise<void> {
    const persistence = this.opts.persistence;
    if (persistence?.mode !== 'replication' || this.closing) return;
    this.syncWithStore();
    const ids = persistence.store.ids('kernels').filter((id) => !this.kernels.has(id));
    await Promise.all(ids.map((id) => this.hydrate(id)));
  }

  /** Replication: lets go of held kernels whose records are gone (shut down elsewhere). */
  syncWithStore(): void {
    const persistence = this.opts.persistence;
    if (persistence?.mode !== 'replication' || this.closing) return;
    for (const kernel of [...this.kernels.values()]) {
      if (!kernel.isEnding && !persistence.store.has('kernels', kernel.id)) this.forget(kernel, 'it was shut down by another gateway');
    }
  }

  /** Re-attaches one stored kernel; undefined (and the record dropped, what is left ended) when
   *  it is gone or does not answer. `own`: this gateway takes it over (start-up adoption). */
  private async attach(record: KernelRecord, own: boolean): Promise<RunningKernel | undefined> {
    const log = this.opts.log;
    const spec = this.opts.specs.get(record.kernelName);
    const drop = (why: string): undefined => {
      log.warn(`Kernel ${record.id} (${record.kernelName}) from the kernel store is dropped: ${why}`);
      this.unpersist(record.id);
      return undefined;
    };
    // Still launching when its gateway stopped: no client was given it. In replication it may
    // be another gateway's launch in progress, so only a standalone start ends it.
    if (record.launching && (!own || this.opts.persistence?.mode === 'replication')) return undefined;
    if (!spec) return drop(`no kernelspec named ${record.kernelName} is installed`);
    if (this.provisioners.nameFor(spec) !== record.provisioner) return drop(`its kernelspec now uses ${this.provisioners.nameFor(spec)}, not ${record.provisioner}`);
    let provisioner;
    try {
      provisioner = this.provisioners.create(spec);
    } catch (err) {
      return drop((err as Error).message);
    }
    if (record.launching) return this.endUnfinished(record, provisioner, spec, drop);
    let adoption;
    try {
      adoption = await RunningKernel.adopt({
        id: record.id,
        spec,
        env: record.env,
        requestEnv: record.requestEnv,
        launchTimeoutMs: this.opts.launchTimeoutMs,
        log,
        provisioner,
        description: record.description,
        connectionInfo: record.connectionInfo,
        startedAt: new Date(record.createdAt),
        restarts: record.restarts,
        verifyTimeoutMs: ADOPT_VERIFY_MS,
      });
    } catch (err) {
      // The engine could not be asked (dockerd or the host down): keep the record for later.
      log.error(`Kernel ${record.id} from the kernel store could not be looked for: ${(err as Error).message}`);
      return undefined;
    }
    if (adoption.outcome === 'gone') {
      await provisioner.cleanup(false).catch((err: Error) => log.warn(`Kernel ${record.id}: cleanup failed: ${err.message}`));
      return drop('its process is gone');
    }
    if (adoption.outcome === 'unanswered') {
      if (!own) {
        adoption.kernel.release();
        log.warn(`Kernel ${record.id} from the kernel store does not answer; not attached`);
        return undefined;
      }
      this.track(adoption.kernel);
      await adoption.kernel.shutdown(true);
      return drop('it does not answer its heartbeat or a signed kernel_info_request (hung, or its key is not the recorded one); ended');
    }
    const kernel = adoption.kernel;
    this.track(kernel);
    if (record.seed) this.seededWith.set(kernel.id, record.seed);
    if (record.warmPool) {
      if (this.warm?.adopt(kernel, record.warmPool)) {
        this.held.add(kernel);
        this.watchHeartbeat(kernel);
        this.persist(kernel, record.warmPool);
        log.info(`Kernel ${kernel.id} (${kernel.name}) re-adopted into the warm pool`);
        return kernel;
      }
      await kernel.shutdown();
      return drop('a warm pool kernel the pool has no room for; ended');
    }
    this.register(kernel, Date.now(), false, own ? 'adopted' : 'hydrated');
    return kernel;
  }

  /** A kernel whose launch a stopped gateway never finished: its process (if still there) is
   *  ended and what it left removed; the record stays if the engine cannot be asked now. */
  private async endUnfinished(record: KernelRecord, provisioner: KernelProvisioner, spec: KernelSpecEntry, drop: (why: string) => undefined): Promise<undefined> {
    const log = this.opts.log;
    try {
      const launched = await provisioner.reattach({ kernelId: record.id, spec, description: record.description, connectionInfo: record.connectionInfo, log });
      if (launched) await provisioner.kill();
      await provisioner.cleanup(false);
    } catch (err) {
      log.error(`Kernel ${record.id} from the kernel store (still starting when its gateway stopped) could not be ended: ${(err as Error).message}`);
      return undefined;
    }
    return drop('it was still starting when its gateway stopped (no client was given it); ended');
  }

  /** Lets go of a kernel without ending it: it leaves the table and its clients are told it is
   *  gone (its websockets close), its process and record are another gateway's business. */
  private forget(kernel: RunningKernel, why: string): void {
    this.opts.log.info(`Kernel ${kernel.id} is no longer served here: ${why}`);
    this.kernels.delete(kernel.id);
    this.restartTimes.delete(kernel.id);
    this.seededWith.delete(kernel.id);
    this.heartbeats.get(kernel.id)?.stop();
    this.heartbeats.delete(kernel.id);
    this.live.delete(kernel);
    kernel.release();
    this.emit('removed', kernel);
  }

  /** availability_mode at gateway stop: every kernel, pool kernels too, is left running with its
   *  record for the next gateway; only kernels still launching are ended. */
  async detachAll(): Promise<number> {
    this.closing = true;
    const pooled = this.warm?.detach() ?? [];
    const kept = [...this.kernels.values(), ...pooled.map((p) => p.kernel)];
    for (const kernel of kept) {
      this.heartbeats.get(kernel.id)?.stop();
      this.heartbeats.delete(kernel.id);
      this.live.delete(kernel);
      kernel.release();
    }
    this.kernels.clear();
    this.held.clear();
    await Promise.all([...this.live].map((k) => k.shutdown(true)));
    return kept.length;
  }

  /** Clients are told the kernel is dead (iopub status), then it is removed. */
  private async giveUp(kernel: RunningKernel): Promise<void> {
    kernel.executionState = 'dead';
    kernel.emit('dead');
    await this.shutdown(kernel.id, true);
  }
}

/** A fingerprint of the cells a seed plan runs in kernels of `kernelName` (undefined: none). */
function seedFingerprint(plan: SeedPlan, kernelName: string): string | undefined {
  if (kernelName !== plan.kernelName.toLowerCase()) return undefined;
  return createHash('sha256').update(JSON.stringify(plan.cells)).digest('hex');
}

/** Where a kernel runs, for log lines: `pid 123`, `container abc on host h`... */
function describeLocation(kernel: RunningKernel): string {
  const { provisioner, ...where } = kernel.location();
  const parts = Object.entries(where).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`);
  return provisioner === LOCAL_PROVISIONER ? parts.join(', ') : [provisioner, ...parts].join(', ');
}
