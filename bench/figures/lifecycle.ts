// Figure 1: kernel start (POST /api/kernels until kernel_info_reply over the websocket; for the
// limit, launch until kernel_info_reply over ZeroMQ) and shutdown (DELETE until the kernel's
// process is gone). Systems take turns round by round, in a rotating order.
import { kernelPid } from '../lib/procs.js';
import { formatNumber, ratioCells, sys, type BenchContext, type FigureReport } from '../lib/report.js';
import { percentile, roundOrder, summarize } from '../lib/stats.js';
import type { SystemUnderTest } from '../lib/systems.js';

const elapsed = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export async function lifecycleFigure(ctx: BenchContext): Promise<FigureReport> {
  const rounds = ctx.quick ? 3 : 10;
  const starts = new Map<SystemUnderTest, number[]>();
  const stops = new Map<SystemUnderTest, number[]>();
  const failures: string[] = [];
  for (const s of ctx.systems) {
    starts.set(s, []);
    stops.set(s, []);
  }
  for (let r = 0; r < rounds; r++) {
    for (const s of roundOrder(ctx.systems, r)) {
      try {
        const format = s.formats.includes('zmq') ? 'zmq' : 'json';
        const t0 = process.hrtime.bigint();
        const k = await s.startKernel();
        const client = await s.connect(k, format);
        await client.kernelInfo();
        starts.get(s)!.push(elapsed(t0));
        await client.close();
        k.pid ??= kernelPid(k.id);
        const t1 = process.hrtime.bigint();
        await s.shutdownKernel(k);
        stops.get(s)!.push(elapsed(t1));
      } catch (err) {
        failures.push(`${s.label}: ${(err as Error).message}`);
      }
    }
  }
  const js = sys(ctx, 'jupyter');
  const limit = sys(ctx, 'direct');
  const p50 = (m: Map<SystemUnderTest, number[]>, s: SystemUnderTest | undefined): number | undefined => (s ? percentile(m.get(s) ?? [], 50) : undefined);
  const table = [['system', 'start p50 ms', 'start max ms', 'vs JS', 'vs limit', 'shutdown p50 ms', 'shutdown max ms', 'vs JS', 'vs limit']];
  const data: Record<string, unknown> = {};
  for (const s of ctx.systems) {
    const a = summarize(starts.get(s)!);
    const b = summarize(stops.get(s)!);
    data[s.key] = { start_ms: a, shutdown_ms: b };
    table.push([
      s.label,
      formatNumber(a.p50),
      formatNumber(a.max),
      ...ratioCells(a.p50, p50(starts, js), p50(starts, limit)),
      formatNumber(b.p50),
      formatNumber(b.max),
      ...ratioCells(b.p50, p50(stops, js), p50(stops, limit)),
    ]);
  }
  const gw = sys(ctx, 'gateway');
  const [gwStart, limStart] = [p50(starts, gw), p50(starts, limit)];
  if (gw) {
    const r = gwStart !== undefined && limStart !== undefined && Number.isFinite(gwStart) && Number.isFinite(limStart) ? gwStart / limStart : undefined;
    ctx.targets.push({
      issue: 15,
      figure: '1. kernel start',
      target: 'gateway start p50 at most 1.05x direct',
      measured: r === undefined ? 'not measured (no direct limit)' : `${formatNumber(gwStart)} vs ${formatNumber(limStart)} ms (${r.toFixed(2)}x)`,
      met: r === undefined ? undefined : r <= 1.05,
    });
  }
  const notes = [`${rounds} rounds, systems interleaved; start includes opening the websocket (servers) and one kernel_info round trip; the limit's launch also waits for the kernel's first iopub message.`];
  notes.push(...failures.map((f) => `FAILED: ${f}`));
  return { id: 'lifecycle', title: 'Figure 1 — kernel start and shutdown (ipykernel)', table, notes, data };
}
