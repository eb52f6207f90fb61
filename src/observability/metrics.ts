// The gateway's counters and histograms, in one registry every layer may write to (kernels,
// personalities, server): what happened, counted as it happens. Live state (kernels running,
// connections) is read at scrape time by the server's /metrics route instead. Label values are
// kernelspec names, channel names and route patterns, never ids or user input.
// On the message hot path counting is two additions to plain numbers (see countMessage).
import { Counter, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration } from 'prom-client';

export const registry = new Registry();
// The process's own figures under their usual names (process_cpu_seconds_total, nodejs_*), as
// Prometheus clients export them everywhere. The event-loop lag histogram samples on a timer:
// prom-client's 10 ms woke an idle gateway 100 times a second (about 2% of a core); 100 ms
// still catches stalls of about 100 ms and more.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

const counter = <T extends string>(config: CounterConfiguration<T>): Counter<T> => new Counter({ ...config, registers: [registry] });

/** Jupyter Server's own series name, so its dashboards work. */
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests, by method, route and status code',
  labelNames: ['method', 'handler', 'status_code'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const kernelStarts = counter({ name: 'kernel_gateway_kernel_starts_total', help: 'Kernels started', labelNames: ['kernelspec', 'provisioner'] as const });
export const kernelStartFailures = counter({ name: 'kernel_gateway_kernel_start_failures_total', help: 'Kernel starts that failed', labelNames: ['kernelspec', 'provisioner'] as const });
export const kernelRestarts = counter({ name: 'kernel_gateway_kernel_restarts_total', help: 'Kernel restarts, asked for or after a death', labelNames: ['kernelspec', 'provisioner', 'reason'] as const });
export const kernelDeaths = counter({ name: 'kernel_gateway_kernel_deaths_total', help: 'Kernels that died without being asked to', labelNames: ['kernelspec', 'provisioner'] as const });
export const kernelCulls = counter({ name: 'kernel_gateway_kernel_culls_total', help: 'Kernels shut down by the idle culler', labelNames: ['kernelspec', 'provisioner'] as const });
// The warm pool's size is live state (see the /metrics route); its hits and misses are events.
export const warmPoolHits = counter({ name: 'kernel_gateway_warm_pool_hits_total', help: 'Kernel starts served at once by a ready kernel of the warm pool', labelNames: ['kernelspec'] as const });
export const warmPoolMisses = counter({ name: 'kernel_gateway_warm_pool_misses_total', help: 'Starts of a warm-pooled kernelspec that started cold (no ready kernel, or a request env the pool cannot serve)', labelNames: ['kernelspec'] as const });
export const kernelStartDuration = new Histogram({
  name: 'kernel_gateway_kernel_start_duration_seconds',
  help: 'Time from a start request until the kernel answered kernel_info (and was seeded), or until a warm pool kernel was handed out',
  labelNames: ['kernelspec', 'provisioner'] as const,
  buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 60],
  registers: [registry],
});

export const notebookHttpRequestDuration = new Histogram({
  name: 'kernel_gateway_notebook_http_request_duration_seconds',
  help: 'Duration of notebook-http endpoint requests, by method, endpoint pattern and status code',
  labelNames: ['method', 'endpoint', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const messagesDropped = counter({ name: 'kernel_gateway_messages_dropped_total', help: 'Kernel messages a slow websocket client missed past its backlog limit' });
export const messagesReplayed = counter({ name: 'kernel_gateway_messages_replayed_total', help: 'Kernel messages replayed to a websocket session that reconnected' });

export type Direction = 'to_kernel' | 'from_kernel';
const CHANNELS = ['shell', 'control', 'stdin', 'iopub'] as const;
const DIRECTIONS: Direction[] = ['to_kernel', 'from_kernel'];

/**
 * Messages are counted in plain numbers and handed to prom-client only when /metrics is read:
 * even a bound child's inc() hashes its labels and validates them, twice per message.
 */
interface Tally {
  messages: number;
  bytes: number;
  /** What the registry has been given so far. */
  reported: { messages: number; bytes: number };
}
const tallies = new Map<string, Record<Direction, Tally>>();
for (const channel of CHANNELS) {
  const tally = (): Tally => ({ messages: 0, bytes: 0, reported: { messages: 0, bytes: 0 } });
  tallies.set(channel, { to_kernel: tally(), from_kernel: tally() });
}

function tallyCounter(name: string, help: string, field: 'messages' | 'bytes'): Counter<'channel' | 'direction'> {
  return counter({
    name,
    help,
    labelNames: ['channel', 'direction'] as const,
    collect() {
      for (const channel of CHANNELS) {
        for (const direction of DIRECTIONS) {
          const t = tallies.get(channel)![direction];
          const delta = t[field] - t.reported[field];
          // inc(0) still creates the series, so every channel and direction shows from the start.
          this.inc({ channel, direction }, delta);
          t.reported[field] = t[field];
        }
      }
    },
  });
}
tallyCounter('kernel_gateway_messages_total', 'Jupyter messages relayed, by channel and direction (to_kernel, from_kernel)', 'messages');
tallyCounter('kernel_gateway_message_bytes_total', 'Bytes of Jupyter messages relayed, by channel and direction', 'bytes');

/** Running totals the operator's status page turns into rates (cheaper to read than the registry). */
export const totals = { requests: 0, errors: 0, messages: 0 };

/** Counts one message relayed to or from a kernel: two additions. */
export function countMessage(channel: string, direction: Direction, bytes: number): void {
  totals.messages++;
  const t = tallies.get(channel)?.[direction];
  if (!t) return;
  t.messages++;
  t.bytes += bytes;
}

