// What an operator sees of one gateway: its own figures (uptime, memory, CPU, request and
// message rates, errors), every kernel (state, connections, activity, uptime, restarts, and
// for local kernels the process's memory and CPU from /proc), and the last events. One
// sampler, every 2 s, computes the rates and pushes a snapshot to every live subscriber (the
// dashboard's server-sent events), so many open dashboards cost one computation.
import { readFileSync } from 'node:fs';
import type { KernelManager } from '../../kernels/kernel-manager.js';
import type { RunningKernel } from '../../kernels/running-kernel.js';
import type { WarmPoolStatus } from '../../kernels/warm-pool.js';
import { totals } from '../../observability/metrics.js';
import type { GatewayEvent, GatewayEventType, GatewayStatus, KernelStatus } from './status-model.js';

export type { GatewayEvent, GatewayEventType, GatewayStatus, KernelStatus } from './status-model.js';

const SAMPLE_MS = 2000;
const PUSH_THROTTLE_MS = 250;
const MAX_EVENTS = 100;
const MAX_REFUSALS = 20;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const PAGE_SIZE = 4096;

/** CPU seconds used so far and resident bytes of a local process, from /proc (null elsewhere). */
function processFigures(pid: number): { cpuSeconds: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const rssBytes = Number(fields[21]) * PAGE_SIZE;
    return Number.isFinite(cpuSeconds) && Number.isFinite(rssBytes) ? { cpuSeconds, rssBytes } : null;
  } catch {
    return null;
  }
}

export interface Subscriber {
  status(s: GatewayStatus): void;
  event(e: GatewayEvent): void;
  /** The gateway is shutting down. */
  end(): void;
}

export class GatewayStatusBoard {
  private readonly started = new Date();
  private readonly events: GatewayEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private readonly timer: NodeJS.Timeout;
  private last = { at: performance.now(), requests: 0, errors: 0, messages: 0, cpu: process.cpuUsage() };
  private rates = { requests_per_second: 0, messages_per_second: 0, errors_per_second: 0 };
  private gatewayCpu = 0;
  private readonly kernelCpu = new Map<string, { pid: number; at: number; cpuSeconds: number; percent: number | null }>();
  /** Refused requests are kept apart: a flood of them must not push kernel events out. */
  private readonly refusals: GatewayEvent[] = [];
  private pushTimer?: NodeJS.Timeout;

  constructor(
    private readonly kernels: KernelManager,
    private readonly version: string,
  ) {
    kernels.on('started', (k, ms, warm) => {
      k.on('state', () => this.statusChanged());
      this.record('start', warm ? `Kernel ${k.name} handed out by the warm pool in ${ms} ms` : `Kernel ${k.name} started in ${ms} ms`, k);
    });
    kernels.on('start-failed', (name, err) => this.record('start-failure', `A ${name} kernel failed to start: ${err.message}`, undefined, name));
    kernels.on('restarting', (k, reason) => this.record('restart', reason === 'died' ? `Kernel ${k.name} is restarting after it died` : `Kernel ${k.name} is restarting`, k));
    kernels.on('died', (k) => this.record('death', `Kernel ${k.name} died`, k));
    kernels.on('culled', (k) => this.record('cull', `Kernel ${k.name} culled after inactivity`, k));
    kernels.on('removed', (k) => {
      this.kernelCpu.delete(k.id);
      this.record('shutdown', `Kernel ${k.name} shut down`, k);
    });
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  /** A request refused for auth or origin (no kernel id: the caller is not trusted). */
  refused(status: number, method: string, route: string): void {
    this.record('refused', `${status} ${method} ${route}`);
  }

  private record(type: GatewayEventType, message: string, kernel?: RunningKernel, kernelspec?: string): void {
    const event: GatewayEvent = { time: new Date().toISOString(), type, message, ...(kernel ? { kernel_id: kernel.id, kernelspec: kernel.name } : kernelspec ? { kernelspec } : {}) };
    const list = type === 'refused' ? this.refusals : this.events;
    list.push(event);
    if (list.length > (type === 'refused' ? MAX_REFUSALS : MAX_EVENTS)) list.shift();
    for (const s of this.subscribers) s.event(event);
  }

  /** A kernel's execution state changed: subscribers get a snapshot soon (at most one per 250 ms),
   *  so that even a short busy spell shows. */
  private statusChanged(): void {
    if (this.pushTimer || this.subscribers.size === 0) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      const snapshot = this.status();
      for (const s of this.subscribers) s.status(snapshot);
    }, PUSH_THROTTLE_MS);
    this.pushTimer.unref();
  }

  /** Live updates: a snapshot now and every sample, and each event as it happens. */
  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    subscriber.status(this.status());
    return () => this.subscribers.delete(subscriber);
  }

  private sample(): void {
    const now = performance.now();
    const seconds = (now - this.last.at) / 1000;
    const cpu = process.cpuUsage();
    if (seconds > 0) {
      this.rates = {
        requests_per_second: round((totals.requests - this.last.requests) / seconds),
        messages_per_second: round((totals.messages - this.last.messages) / seconds),
        errors_per_second: round((totals.errors - this.last.errors) / seconds),
      };
      this.gatewayCpu = round(((cpu.user - this.last.cpu.user + cpu.system - this.last.cpu.system) / 1e6 / seconds) * 100);
    }
    this.last = { at: now, requests: totals.requests, errors: totals.errors, messages: totals.messages, cpu };
    const read = new Map<string, ReturnType<typeof processFigures>>();
    for (const k of this.kernels.list()) {
      const figures = k.pid === undefined ? null : processFigures(k.pid);
      read.set(k.id, figures);
      // A restarted kernel is a new process: its CPU time starts again from zero.
      const before = this.kernelCpu.get(k.id);
      const samePid = before !== undefined && before.pid === k.pid;
      const percent = figures && samePid ? Math.max(0, round(((figures.cpuSeconds - before.cpuSeconds) / ((now - before.at) / 1000)) * 100)) : null;
      if (figures && k.pid !== undefined) this.kernelCpu.set(k.id, { pid: k.pid, at: now, cpuSeconds: figures.cpuSeconds, percent });
    }
    if (this.subscribers.size === 0) return;
    const snapshot = this.status(read);
    for (const s of this.subscribers) s.status(snapshot);
  }

  /** `read`: /proc figures the caller has just read, so the sampler does not read them twice. */
  status(read?: Map<string, ReturnType<typeof processFigures>>): GatewayStatus {
    const now = Date.now();
    const mem = process.memoryUsage();
    return {
      version: this.version,
      started: this.started.toISOString(),
      uptime_seconds: round((now - this.started.getTime()) / 1000),
      process: { pid: process.pid, rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, cpu_percent: this.gatewayCpu },
      rates: this.rates,
      totals: { requests: totals.requests, errors: totals.errors, messages: totals.messages },
      kernels: this.kernels.list().map((k) => {
        const figures = read?.has(k.id) ? read.get(k.id) : k.pid === undefined ? null : processFigures(k.pid);
        return {
          id: k.id,
          name: k.name,
          execution_state: k.executionState,
          connections: k.connections,
          last_activity: k.lastActivity.toISOString(),
          started: k.startedAt.toISOString(),
          uptime_seconds: round((now - k.startedAt.getTime()) / 1000),
          restarts: k.restarts,
          pid: k.pid ?? null,
          memory_bytes: figures?.rssBytes ?? null,
          cpu_percent: this.kernelCpu.get(k.id)?.percent ?? null,
        };
      }),
      warm_pool: this.kernels.warmPoolStatus(),
      events: mergeByTime(this.events, this.refusals),
    };
  }

  /** After the gateway's last events: ends every live stream. */
  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.pushTimer);
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }
}

/** Two lists each in time order, as one. */
function mergeByTime(a: GatewayEvent[], b: GatewayEvent[]): GatewayEvent[] {
  return [...a, ...b].sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
