// An endpoint request's executions are bounded by execution_timeout and by the client staying
// connected. When either ends the wait, the kernel is interrupted and handed back to the pool
// only once the interrupted execution is over (the next request must find it idle); a kernel
// that does not come back in time is ended, and the pool starts another.
import type { FastifyReply } from 'fastify';
import type { Logger } from '../../kernels/logger.js';
import type { RunningKernel } from '../../kernels/running-kernel.js';
import { ExecutionAbandonedError, type AbandonReason } from '../../errors.js';

/** How long an interrupted kernel may take to finish its execution before it is ended. */
const RECOVERY_MS = 10_000;

/** Watches one request: aborts on the deadline (0: none) or when the client disconnects. */
export class RequestWatch {
  private readonly controller = new AbortController();
  private readonly timer?: NodeJS.Timeout;
  reason?: AbandonReason;
  private readonly onClose = (): void => {
    if (!this.reply.raw.writableFinished) this.abort('client-gone');
  };

  constructor(
    private readonly reply: FastifyReply,
    timeoutMs: number,
  ) {
    if (timeoutMs > 0) this.timer = setTimeout(() => this.abort('timeout'), timeoutMs);
    reply.raw.once('close', this.onClose);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private abort(reason: AbandonReason): void {
    if (this.controller.signal.aborted) return;
    this.reason = reason;
    this.controller.abort();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.reply.raw.off('close', this.onClose);
  }
}

/** `running`, unless the watch aborts first: then ExecutionAbandonedError carrying it. */
export function unlessAbandoned<T>(running: Promise<T>, watch: RequestWatch): Promise<T> {
  const signal = watch.signal;
  if (signal.aborted) return Promise.reject(new ExecutionAbandonedError(watch.reason ?? 'timeout', running));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ExecutionAbandonedError(watch.reason ?? 'timeout', running));
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Interrupts the kernel and waits for the abandoned execution to end; false if it did not in time. */
export async function interruptAndSettle(kernel: RunningKernel, running: Promise<unknown>, log: Logger): Promise<boolean> {
  await kernel.interrupt().catch((err: Error) => log.warn(`Interrupting kernel ${kernel.id} failed: ${err.message}`));
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    running.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), RECOVERY_MS))),
  ]);
  clearTimeout(timer);
  return settled;
}
