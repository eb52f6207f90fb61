// The warm pool (warm_pool): per kernelspec, kernels that are started, seeded and answering
// kernel_info before anyone asks, so that a start can be served at once. The pool only asks its
// host (the KernelManager) for kernels and gives them back, so it works with whatever launches
// them. Knows nothing of HTTP.
//
// Which starts it serves: a pool kernel was started before the request, without the request's
// env, so it serves only a start whose kept env (KERNEL_* and env_whitelist variables) holds
// nothing but warm_pool_ignored_env variables. And a start without an env gives a kernel the
// gateway's environment, a start with one only PATH and env_process_whitelist (the original's
// rule): each pool kernel is of one of those two flavours and serves starts of that flavour
// only. The first kernels alternate between the flavours; after that, refills take the
// flavour of the latest start; a start that misses for the flavour
// retires a ready kernel of the other one, and so does each start once as many starts in a row
// as the pool's size asked for one flavour: the pool follows its clients, and a mixed crowd
// keeps a mixed pool.
//
// Refills run in the background, a few launches at a time, and never past max_kernels (the host
// says when there is room). A pool kernel that dies, or hangs (the host's heartbeat kills it),
// is replaced; one that failed to start is tried again later, waiting longer each time.
import { availableParallelism } from 'node:os';
import type { WarmPoolStatus } from './rest-models.js';
import type { RunningKernel } from './running-kernel.js';
import type { Logger } from './logger.js';
import * as metrics from '../observability/metrics.js';

/** 'inherited': started as a request without env is (the gateway's environment);
 *  'restricted': as a request with an env (PATH and env_process_whitelist only). */
export type EnvFlavour = 'inherited' | 'restricted';

/** What the pool needs from whoever runs kernels. */
export interface WarmPoolHost {
  /** Starts (and seeds) a kernel that stays out of the kernel table but counts against
   *  max_kernels. Synchronously counted as launching, so hasRoom() sees it at once. */
  launchHeld(name: string, flavour: EnvFlavour): Promise<RunningKernel>;
  /** Ends a held kernel; it stops counting against max_kernels synchronously. */
  discardHeld(kernel: RunningKernel): Promise<void>;
  /** Whether one more kernel fits under max_kernels. */
  hasRoom(): boolean;
}

/** How a start would like its kernel. */
export interface WarmStart {
  flavour: EnvFlavour;
  /** Its kept env holds nothing but ignored variables. */
  compatible: boolean;
}

export type { WarmPoolKernelStatus, WarmPoolStatus } from './rest-models.js';

interface PoolKernel {
  kernel: RunningKernel;
  flavour: EnvFlavour;
  readySince: Date;
  unsubscribe: () => void;
}

interface Entry {
  name: string;
  target: number;
  ready: PoolKernel[];
  starting: number;
  startingByFlavour: Record<EnvFlavour, number>;
  /** The flavour refills get: that of the latest start; how many starts in a row asked for it. */
  flavour: EnvFlavour;
  streak: number;
  hits: number;
  misses: number;
  /** Launches that failed in a row, and when the next may be tried. */
  failures: number;
  retryAt: number;
}

const MAX_RETRY_DELAY_MS = 30_000;

/** At most two launches at a time, and one on a machine of two cores or fewer: refilling must
 *  leave the gateway and the cold starts room to run. */
export function defaultRefillConcurrency(): number {
  return Math.min(2, Math.max(1, availableParallelism() - 1));
}

export class WarmPool {
  private readonly entries = new Map<string, Entry>();
  private launches = 0;
  private open = false;
  private closed = false;
  private refillQueued = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly host: WarmPoolHost,
    targets: Record<string, number>,
    private readonly log: Logger,
    private readonly concurrency = defaultRefillConcurrency(),
  ) {
    for (const [name, target] of Object.entries(targets)) {
      if (target > 0) this.entries.set(name.toLowerCase(), { name: name.toLowerCase(), target, ready: [], starting: 0, startingByFlavour: { inherited: 0, restricted: 0 }, flavour: 'inherited', streak: 0, hits: 0, misses: 0, failures: 0, retryAt: 0 });
    }
  }

  get kernelspecs(): string[] {
    return [...this.entries.keys()];
  }

  /** Begins filling. Until then no start is served (prespawned kernels start cold, as before). */
  start(): void {
    if (this.closed || this.open) return;
    this.open = true;
    this.log.info(`Warm pool: ${[...this.entries.values()].map((e) => `${e.target} ${e.name}`).join(', ')} kernel(s), ${this.concurrency} start(s) at a time`);
    this.fill();
  }

  /**
   * A ready kernel for a start of `name`, taken out of the pool (the caller owns it from now
   * on), or undefined: then the start is a cold one. Synchronous, so two starts never get the
   * same kernel. Counts a hit or, for a pooled kernelspec, a miss.
   */
  take(name: string, start: WarmStart): RunningKernel | undefined {
    const entry = this.entries.get(name);
    if (!entry || !this.open || this.closed) return undefined;
    let taken: PoolKernel | undefined;
    if (start.compatible) {
      entry.streak = start.flavour === entry.flavour ? entry.streak + 1 : 1;
      entry.flavour = start.flavour;
      const i = entry.ready.findIndex((p) => p.flavour === start.flavour && p.kernel.alive);
      if (i >= 0) [taken] = entry.ready.splice(i, 1);
      // A miss for the flavour frees a place for the wanted one at once; after a hit, a kernel
      // of the other flavour goes only once `target` starts in a row asked for this one.
      if (!taken || entry.streak >= entry.target) {
        const other = entry.ready.find((p) => p.flavour !== start.flavour);
        if (other) this.retire(entry, other, `starts now ask for the ${start.flavour} environment`);
      }
    }
    if (!taken) {
      entry.misses++;
      metrics.warmPoolMisses.inc({ kernelspec: name });
      return undefined;
    }
    taken.unsubscribe();
    entry.hits++;
    metrics.warmPoolHits.inc({ kernelspec: name });
    this.refill();
    return taken.kernel;
  }

  /** At max_kernels, a start that the pool cannot serve may have a pool kernel's place: the one
   *  ready the longest is ended. False when none is ready. */
  giveWay(): boolean {
    let oldest: { entry: Entry; pk: PoolKernel } | undefined;
    for (const entry of this.entries.values()) {
      for (const pk of entry.ready) if (!oldest || pk.readySince < oldest.pk.readySince) oldest = { entry, pk };
    }
    if (!oldest) return false;
    this.retire(oldest.entry, oldest.pk, 'a start needs its place under max_kernels');
    return true;
  }

  /** Something may have freed room (a kernel ended, a start failed): refill soon. Deferred, so
   *  that a start under way in the caller's turn claims a free place before a refill does. */
  refill(): void {
    if (this.refillQueued || !this.open || this.closed) return;
    this.refillQueued = true;
    setImmediate(() => {
      this.refillQueued = false;
      this.fill();
    });
  }

  status(): WarmPoolStatus[] {
    return [...this.entries.values()].map((e) => ({
      kernelspec: e.name,
      target: e.target,
      ready: e.ready.map((p) => ({ id: p.kernel.id, pid: p.kernel.pid ?? null, flavour: p.flavour, ready_since: p.readySince.toISOString() })),
      starting: e.starting,
      hits: e.hits,
      misses: e.misses,
    }));
  }

  /** A pool kernel a previous gateway process left (availability_mode) joins the pool, if its
   *  kernelspec's pool has room for it; false: the caller ends it. */
  adopt(kernel: RunningKernel, flavour: EnvFlavour): boolean {
    const entry = this.entries.get(kernel.name);
    if (!entry || this.closed || entry.ready.length + entry.starting >= entry.target) return false;
    this.admit(entry, kernel, flavour);
    return true;
  }

  /** Stops refilling and hands back the ready kernels, still running, with their flavours (the
   *  gateway stops and leaves them to the next one). */
  detach(): { kernel: RunningKernel; flavour: EnvFlavour }[] {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const ready = [...this.entries.values()].flatMap((e) => e.ready.splice(0));
    for (const pk of ready) pk.unsubscribe();
    return ready.map((pk) => ({ kernel: pk.kernel, flavour: pk.flavour }));
  }

  /** The flavour of a ready kernel (undefined: not in the pool). */
  flavourOf(kernel: RunningKernel): EnvFlavour | undefined {
    return this.entries.get(kernel.name)?.ready.find((pk) => pk.kernel === kernel)?.flavour;
  }

  /** Ends the ready kernels and starts no more (launches under way are ended by the host). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const ready = [...this.entries.values()].flatMap((e) => e.ready.splice(0));
    for (const pk of ready) pk.unsubscribe();
    await Promise.allSettled(ready.map((pk) => this.host.discardHeld(pk.kernel)));
  }

  private fill(): void {
    if (!this.open || this.closed) return;
    while (this.launches < this.concurrency && this.host.hasRoom()) {
      const entry = this.neediest(Date.now());
      if (!entry) break;
      this.launch(entry);
    }
    this.scheduleRetry();
  }

  /** The kernelspec furthest below its target (relative to it), among those not backing off. */
  private neediest(now: number): Entry | undefined {
    let best: Entry | undefined;
    let bestFill = 1;
    for (const e of this.entries.values()) {
      const filled = (e.ready.length + e.starting) / e.target;
      if (filled < bestFill && e.retryAt <= now) {
        best = e;
        bestFill = filled;
      }
    }
    return best;
  }

  private launch(entry: Entry): void {
    const flavour = this.flavourToStart(entry);
    this.launches++;
    entry.starting++;
    entry.startingByFlavour[flavour]++;
    const t0 = Date.now();
    this.host
      .launchHeld(entry.name, flavour)
      .then(
        (kernel) => {
          entry.failures = 0;
          entry.retryAt = 0;
          if (this.closed) return void this.host.discardHeld(kernel);
          this.admit(entry, kernel, flavour);
          this.log.info(`Warm pool kernel ready: ${kernel.id} (${entry.name}, pid ${kernel.pid}) in ${Date.now() - t0} ms`);
        },
        (err: Error) => {
          if (this.closed) return;
          entry.failures++;
          const delay = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** (entry.failures - 1));
          entry.retryAt = Date.now() + delay;
          this.log.error(`A warm pool kernel (${entry.name}) failed to start: ${err.message}; trying again in ${Math.round(delay / 1000)} s`);
        },
      )
      .finally(() => {
        this.launches--;
        entry.starting--;
        entry.startingByFlavour[flavour]--;
        this.fill();
      });
  }

  /** Before any start was seen, both flavours take turns (so that the first start of either
   *  kind can be served); from then on refills follow the latest start. */
  private flavourToStart(entry: Entry): EnvFlavour {
    if (entry.streak > 0) return entry.flavour;
    const held = (f: EnvFlavour): number => entry.ready.filter((p) => p.flavour === f).length + entry.startingByFlavour[f];
    return held('inherited') <= held('restricted') ? 'inherited' : 'restricted';
  }

  private admit(entry: Entry, kernel: RunningKernel, flavour: EnvFlavour): void {
    const pk: PoolKernel = { kernel, flavour, readySince: new Date(), unsubscribe: () => undefined };
    const onDied = (): void => this.lost(entry, pk);
    kernel.once('died', onDied);
    pk.unsubscribe = () => kernel.off('died', onDied);
    entry.ready.push(pk);
  }

  /** A ready kernel died: it is ended (its files removed) and another takes its place. */
  private lost(entry: Entry, pk: PoolKernel): void {
    const i = entry.ready.indexOf(pk);
    if (i < 0) return;
    entry.ready.splice(i, 1);
    pk.unsubscribe();
    metrics.kernelDeaths.inc({ kernelspec: entry.name, provisioner: pk.kernel.provisionerName });
    this.log.warn(`Warm pool kernel ${pk.kernel.id} (${entry.name}) died; starting a replacement`);
    void this.host.discardHeld(pk.kernel);
    this.refill();
  }

  private retire(entry: Entry, pk: PoolKernel, why: string): void {
    const i = entry.ready.indexOf(pk);
    if (i < 0) return;
    entry.ready.splice(i, 1);
    pk.unsubscribe();
    this.log.info(`Warm pool kernel ${pk.kernel.id} (${entry.name}) ended: ${why}`);
    void this.host.discardHeld(pk.kernel);
    this.refill();
  }

  /** A kernelspec backing off after failed launches is looked at again when its wait ends. */
  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    const waits = [...this.entries.values()].filter((e) => e.retryAt > Date.now() && e.ready.length + e.starting < e.target).map((e) => e.retryAt - Date.now());
    if (waits.length === 0) return;
    this.retryTimer = setTimeout(() => this.fill(), Math.min(...waits));
    this.retryTimer.unref();
  }
}
