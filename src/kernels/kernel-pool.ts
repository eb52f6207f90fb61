// A fixed-size pool of interchangeable kernels (notebook-http's prespawn_count): each request
// leases one free kernel, waits in a fair FIFO queue when none is free, and never shares a
// kernel with another request. Free kernels are handed out in FIFO order too, so sequential
// requests rotate through the pool as they do in the original. A kernel that dies is ended
// and replaced by a freshly started (and so freshly seeded) one.
import type { KernelManager } from './kernel-manager.js';
import type { Logger } from './logger.js';
import type { RunningKernel } from './running-kernel.js';
import { PoolClosedError, PoolWaitAbortedError } from '../errors.js';

export interface KernelPoolOptions<K> {
  size: number;
  /** Starts (and seeds) one kernel. */
  start(): Promise<K>;
  /** Kernels already running that may take seats before any is started (kernels re-adopted
   *  from the kernel store). */
  adoptable?(): K[];
  /** Ends one kernel for good. Called synchronously from the death listener (see onDeath). */
  stop(kernel: K): Promise<unknown>;
  /** Listens for the kernel's death ahead of other listeners; returns the unsubscribe. */
  onDeath(kernel: K, listener: () => void): () => void;
  /** A short description of a kernel for log lines. */
  describe?(kernel: K): string;
  log: Logger;
  /** Wait before the n-th retry (0-based) of a replacement that failed to start. */
  retryDelayMs?(attempt: number): number;
}

export interface PoolLease<K> {
  readonly kernel: K;
  /** Gives the kernel back (a no-op after the first call, or if the kernel died meanwhile). */
  release(): void;
}

interface Waiter<K> {
  resolve(lease: PoolLease<K>): void;
  reject(err: Error): void;
  detach(): void;
}

export class KernelPool<K> {
  private readonly members = new Map<K, () => void>();
  private readonly idle: K[] = [];
  private readonly busy = new Set<K>();
  private readonly waiters: Waiter<K>[] = [];
  private readonly replacements = new Set<Promise<void>>();
  private readonly retryTimers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;

  constructor(private readonly opts: KernelPoolOptions<K>) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`A kernel pool needs at least one kernel (size ${opts.size})`);
  }

  get stats(): { size: number; members: number; idle: number; busy: number; waiting: number; replacing: number } {
    return { size: this.opts.size, members: this.members.size, idle: this.idle.length, busy: this.busy.size, waiting: this.waiters.length, replacing: this.replacements.size };
  }

  /** Fills every seat of the pool, adoptable kernels first; rejects if a start fails (the
   *  kernels started stay members). */
  async start(): Promise<void> {
    const adopted = (this.opts.adoptable?.() ?? []).slice(0, this.opts.size);
    for (const kernel of adopted) this.admit(kernel);
    await Promise.all(Array.from({ length: this.opts.size - adopted.length }, async () => this.admit(await this.opts.start())));
  }

  has(kernel: K): boolean {
    return this.members.has(kernel);
  }

  /** A free kernel now, or undefined (no queueing): the cheap path when the pool is not saturated. */
  tryAcquire(): PoolLease<K> | undefined {
    if (this.closed || this.waiters.length > 0) return undefined;
    const kernel = this.idle.shift();
    return kernel === undefined ? undefined : this.lease(kernel);
  }

  acquire(signal?: AbortSignal): Promise<PoolLease<K>> {
    if (this.closed) return Promise.reject(new PoolClosedError('The kernel pool is shut down'));
    if (signal?.aborted) return Promise.reject(new PoolWaitAbortedError('The request was abandoned before a kernel was free'));
    const kernel = this.idle.shift();
    if (kernel !== undefined) return Promise.resolve(this.lease(kernel));
    return new Promise<PoolLease<K>>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new PoolWaitAbortedError('The request was abandoned before a kernel was free'));
      };
      const waiter: Waiter<K> = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.detach();
      w.reject(new PoolClosedError('The gateway is shutting down'));
    }
    for (const t of this.retryTimers) {
      clearTimeout(t.timer);
      t.wake();
    }
    await Promise.allSettled([...this.replacements]);
    const kernels = [...this.members.keys()];
    for (const unsubscribe of this.members.values()) unsubscribe();
    this.members.clear();
    this.idle.length = 0;
    this.busy.clear();
    await Promise.allSettled(kernels.map((k) => this.opts.stop(k)));
  }

  private lease(kernel: K): PoolLease<K> {
    this.busy.add(kernel);
    let released = false;
    return {
      kernel,
      release: () => {
        if (released) return;
        released = true;
        if (!this.busy.delete(kernel) || !this.members.has(kernel)) return;
        this.handOut(kernel);
      },
    };
  }

  /** The next waiter gets the kernel directly (no barging by later arrivals), else it goes idle. */
  private handOut(kernel: K): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.detach();
      waiter.resolve(this.lease(kernel));
    } else {
      this.idle.push(kernel);
    }
  }

  private admit(kernel: K): void {
    const unsubscribe = this.opts.onDeath(kernel, () => this.lost(kernel, 'died'));
    this.members.set(kernel, unsubscribe);
    this.handOut(kernel);
  }

  /** Takes a kernel that died (or was ended by someone else) out of the pool and starts another. */
  lost(kernel: K, why: string): void {
    const unsubscribe = this.members.get(kernel);
    if (!unsubscribe || this.closed) return;
    unsubscribe();
    this.members.delete(kernel);
    this.busy.delete(kernel);
    const i = this.idle.indexOf(kernel);
    if (i >= 0) this.idle.splice(i, 1);
    this.opts.log.warn(`Pool kernel ${this.opts.describe?.(kernel) ?? ''} ${why}; starting a replacement`);
    this.opts.stop(kernel).catch((err: Error) => this.opts.log.warn(`Ending the dead pool kernel failed: ${err.message}`));
    const replacement = this.replace().finally(() => this.replacements.delete(replacement));
    this.replacements.add(replacement);
  }

  private async replace(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const kernel = await this.opts.start();
        if (this.closed) {
          await this.opts.stop(kernel);
          return;
        }
        this.admit(kernel);
        this.opts.log.info(`Pool kernel ${this.opts.describe?.(kernel) ?? ''} replaces the one that died`);
        return;
      } catch (err) {
        if (this.closed) return;
        const delay = this.opts.retryDelayMs?.(attempt) ?? Math.min(30_000, 1000 * 2 ** attempt);
        this.opts.log.error(`Could not start a replacement pool kernel (${(err as Error).message}); retrying in ${Math.round(delay / 1000)} s`);
        await new Promise<void>((wake) => {
          const entry = { timer: setTimeout(() => (this.retryTimers.delete(entry), wake()), delay), wake };
          this.retryTimers.add(entry);
        });
      }
    }
  }
}

/**
 * A pool of kernels from the KernelManager (so they are seeded, counted against max_kernels and
 * ended with the gateway). The pool hears of a death before the manager does and ends the kernel
 * at once, which takes it out of the manager's table: the manager then does not restart it in
 * place, and a new kernel (seeded again, unlike an in-place restart) takes its seat.
 */
export function managedKernelPool(kernels: KernelManager, opts: { size: number; kernelName?: string; log: Logger }): KernelPool<RunningKernel> {
  const pool = new KernelPool<RunningKernel>({
    size: opts.size,
    log: opts.log,
    start: () => kernels.start({ name: opts.kernelName }),
    // Re-adopted kernels of the pool's kernelspec that ran the current seed notebook.
    adoptable: () => kernels.list().filter((k) => k.name === kernels.resolveName(opts.kernelName) && k.state === 'ready' && kernels.seedMatches(k)),
    stop: (kernel) => kernels.shutdown(kernel.id, true),
    onDeath: (kernel, listener) => {
      kernel.prependListener('died', listener);
      return () => kernel.off('died', listener);
    },
    describe: (kernel) => `${kernel.id} (pid ${kernel.pid ?? '?'})`,
  });
  // A pool kernel ended by someone else (a culler, say) must not stay in the pool. The pool's
  // own stop() also ends in 'removed', after the kernel has left the pool: then this is a no-op.
  kernels.on('removed', (kernel) => pool.lost(kernel, 'was ended by the kernel manager'));
  return pool;
}
