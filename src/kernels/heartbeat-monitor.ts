// Watches a kernel's heartbeat channel: a kernel whose process lives on but whose heartbeat
// stops answering (hung, frozen, stopped by SIGSTOP) counts as dead, like Jupyter's
// KernelRestarter does. Three missed beats in a row call onFlatline.
import type { RunningKernel } from './running-kernel.js';

const MISSES_ALLOWED = 3;

export class HeartbeatMonitor {
  private timer?: NodeJS.Timeout;
  private misses = 0;
  private stopped = false;

  constructor(
    private readonly kernel: RunningKernel,
    private readonly intervalMs: number,
    private readonly onFlatline: (kernel: RunningKernel) => void,
  ) {}

  start(): this {
    if (this.intervalMs > 0) this.schedule();
    return this;
  }

  private schedule(): void {
    if (this.stopped) return;
    // Whatever a beat throws, the monitor goes on (an unhandled rejection would end the gateway).
    this.timer = setTimeout(() => void this.beat().catch(() => this.schedule()), this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    // A kernel starting, restarting or ending is not expected to answer.
    const state = this.kernel.executionState;
    if (this.kernel.isEnding || state === 'starting' || state === 'restarting' || state === 'dead') {
      this.misses = 0;
      return this.schedule();
    }
    const alive = await this.kernel.heartbeat(this.intervalMs);
    if (this.stopped) return;
    this.misses = alive ? 0 : this.misses + 1;
    if (this.misses >= MISSES_ALLOWED) {
      this.misses = 0;
      this.onFlatline(this.kernel);
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
