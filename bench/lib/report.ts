// Shapes shared by the figures: the variants measured (system x websocket format), the
// per-variant CPU bookkeeping, and what a figure hands back for the table and the JSON file.
import { cpuSeconds } from './procs.js';
import { formatNumber, formatRatio, ratio } from './stats.js';
import { wsTraffic, type ClientFormat } from './clients.js';
import type { SystemUnderTest } from './systems.js';

export interface Variant {
  sys: SystemUnderTest;
  format: ClientFormat;
  /** e.g. "kernel-gateway (this) json". */
  name: string;
}

export function variantName(sys: SystemUnderTest, format: ClientFormat): string {
  return format === 'zmq' ? sys.label : `${sys.label} ${format}`;
}

export interface FigureReport {
  id: string;
  title: string;
  /** Header row first; rendered as text and as markdown. */
  table: string[][];
  notes: string[];
  data: unknown;
}

export interface TargetCheck {
  figure: string;
  target: string;
  measured: string;
  /** undefined: could not be judged (a system or figure missing). */
  met: boolean | undefined;
  /** The issue whose targets these are; 7 when not said. */
  issue?: 7 | 15;
}

/** One measured span of one server: its CPU and the websocket traffic it relayed (cost model). */
export interface CostSample {
  system: SystemUnderTest['key'];
  label: string;
  format: ClientFormat;
  /** "2", "3", "9": the figure it comes from. */
  figure: string;
  cpuS: number;
  wallS: number;
  messages: number;
  bytes: number;
}

export interface BenchContext {
  quick: boolean;
  /** Date.now() when the bench began (before starting the systems). */
  startedAt: number;
  systems: SystemUnderTest[];
  log: (m: string) => void;
  /** The highest client CPU seen in a measured phase, as a fraction of one core. */
  clientCpuMax: { value: number; where: string };
  targets: TargetCheck[];
  /** Server CPU and traffic per measured span, from figures 2, 3 and 9 (bench/lib/cost-model.ts). */
  cost: CostSample[];
  /** Figures already run on ctx.systems, in order (figure 3 says whether its gateway was used). */
  done: number[];
}

export function sys(ctx: BenchContext, key: SystemUnderTest['key']): SystemUnderTest | undefined {
  return ctx.systems.find((s) => s.key === key);
}

/** Client and server CPU over the measured spans of one variant (spans add up across rounds). */
export class CpuMeter {
  wallS = 0;
  clientS = 0;
  serverS = 0;
  /** Websocket messages and bytes relayed over the spans (all WsKernelClients of this process). */
  messages = 0;
  bytes = 0;
  /** Each span's server CPU and traffic, for the cost model. */
  readonly spans: { cpuS: number; wallS: number; messages: number; bytes: number }[] = [];
  private serverKnown = true;

  constructor(private readonly serverPid: number | undefined) {}

  async span<T>(fn: () => Promise<T>): Promise<T> {
    const c0 = process.cpuUsage();
    const s0 = this.serverPid === undefined ? undefined : cpuSeconds(this.serverPid);
    const w0 = { ...wsTraffic };
    const t0 = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      const s1 = this.serverPid === undefined ? undefined : cpuSeconds(this.serverPid);
      this.wallS += wall;
      this.clientS += (c.user + c.system) / 1e6;
      const messages = wsTraffic.messages - w0.messages;
      const bytes = wsTraffic.bytes - w0.bytes;
      this.messages += messages;
      this.bytes += bytes;
      if (s0 === undefined || s1 === undefined) this.serverKnown = false;
      else {
        this.serverS += s1 - s0;
        this.spans.push({ cpuS: s1 - s0, wallS: wall, messages, bytes });
      }
    }
  }

  /** Hands this meter's spans to the cost model (servers only; the direct limit has none). */
  recordCost(ctx: Pick<BenchContext, 'cost'>, s: SystemUnderTest, format: ClientFormat, figure: string): void {
    if (s.serverPid === undefined || format === 'zmq') return;
    for (const sp of this.spans) ctx.cost.push({ system: s.key, label: s.label, format, figure, ...sp });
  }

  /** Client CPU as a fraction of one core. */
  get client(): number {
    return this.wallS > 0 ? this.clientS / this.wallS : NaN;
  }

  /** Server CPU as a fraction of one core; undefined without a server process. */
  get server(): number | undefined {
    return this.serverPid === undefined || !this.serverKnown || this.wallS <= 0 ? undefined : this.serverS / this.wallS;
  }

  noteClient(ctx: BenchContext, where: string): void {
    if (Number.isFinite(this.client) && this.client > ctx.clientCpuMax.value) ctx.clientCpuMax = { value: this.client, where };
  }
}

export const pct = (f: number | undefined): string => (f === undefined || !Number.isFinite(f) ? '—' : `${Math.round(f * 100)}%`);

/** "value (x vs JS, x vs limit)" cells: the ratio columns every figure shows. */
export function ratioCells(value: number | undefined, js: number | undefined, limit: number | undefined): [string, string] {
  return [formatRatio(ratio(value, js)), formatRatio(ratio(value, limit))];
}

export { formatNumber };

/** One figure's value for this checkout and for the `--baseline` build, compared. */
export interface BaselinePair {
  what: string;
  unit: string;
  current: number | undefined;
  baseline: number | undefined;
  /** Per-round ratios current/baseline, when the figure has rounds: how much the ratio moves by itself. */
  rounds?: number[];
}

/** "this vs @REV (json): p50 7.97 vs 8.01 ms (0.99x; rounds 0.97x..1.02x), ..." */
export function baselineNote(current: string, baseline: string, pairs: BaselinePair[]): string {
  const parts = pairs.map((p) => {
    const spread = p.rounds?.filter(Number.isFinite).sort((a, b) => a - b);
    const range = spread?.length ? `; rounds ${formatRatio(spread[0])}..${formatRatio(spread[spread.length - 1])}` : '';
    return `${p.what} ${formatNumber(p.current)} vs ${formatNumber(p.baseline)}${p.unit ? ` ${p.unit}` : ''} (${formatRatio(ratio(p.current, p.baseline))}${range})`;
  });
  return `${current} vs ${baseline}: ${parts.join(', ')}`;
}
