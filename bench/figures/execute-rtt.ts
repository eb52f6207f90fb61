// Figure 2: execute round trip of `1+1`: request sent until `status: idle` for it arrives, one
// request at a time, after a warm-up. Variants take turns in chunks, round by round. The
// gateway's overhead is its median minus the direct-ZeroMQ median.
import { CpuMeter, baselineNote, formatNumber, pct, ratioCells, type BenchContext, type FigureReport } from '../lib/report.js';
import { median, roundOrder, summarize, type Summary } from '../lib/stats.js';
import { references, type OpenVariant, type OpenedVariants } from '../lib/variants.js';

export async function executeRttFigure(ctx: BenchContext, opened: OpenedVariants): Promise<FigureReport> {
  const runs = ctx.quick ? 150 : 1000;
  const warmup = ctx.quick ? 10 : 100;
  const rounds = 5;
  const variants = opened.open;
  const samples = new Map<OpenVariant, number[]>();
  /** Each round's median, to show how much a ratio between two variants moves by itself. */
  const roundMedians = new Map<OpenVariant, number[]>();
  const meters = new Map<OpenVariant, CpuMeter>();
  const errors: string[] = [];
  for (const v of variants) {
    samples.set(v, []);
    roundMedians.set(v, []);
    meters.set(v, new CpuMeter(v.sys.serverPid));
    for (let i = 0; i < warmup; i++) await v.client.execute('1+1', 30_000);
  }
  for (let r = 0; r < rounds; r++) {
    for (const v of roundOrder(variants, r)) {
      const n = Math.ceil(runs / rounds);
      const out = samples.get(v)!;
      const round: number[] = [];
      await meters.get(v)!.span(async () => {
        for (let i = 0; i < n; i++) {
          const o = await v.client.execute('1+1', 30_000);
          if (o.errors) errors.push(`${v.name}: the cell raised an error`);
          round.push(o.ms);
        }
      });
      out.push(...round);
      roundMedians.get(v)!.push(median(round));
    }
  }
  const sums = new Map<OpenVariant, Summary>();
  for (const v of variants) sums.set(v, summarize(samples.get(v)!));
  const { js, limit } = references(variants);
  const get = (v: OpenVariant | undefined): Summary | undefined => (v ? sums.get(v) : undefined);
  const cpuPerExec = (v: OpenVariant): number | undefined => {
    const m = meters.get(v)!;
    return m.server === undefined ? undefined : (m.serverS * 1000) / sums.get(v)!.n;
  };
  const table = [['system', 'p50 ms', 'p99 ms', 'p50 vs JS', 'p50 vs limit', 'p99 vs JS', 'p99 vs limit', 'server CPU ms/exec', 'client CPU']];
  const data: Record<string, unknown> = {};
  for (const v of variants) {
    const s = sums.get(v)!;
    const m = meters.get(v)!;
    m.noteClient(ctx, `execute round trip, ${v.name}`);
    m.recordCost(ctx, v.sys, v.format, '2');
    const serverMsPerExec = cpuPerExec(v);
    data[v.name] = { system: v.sys.key, format: v.format, ms: s, server_cpu_ms_per_execute: serverMsPerExec, client_cpu: m.client };
    table.push([
      v.name,
      formatNumber(s.p50),
      formatNumber(s.p99),
      ...ratioCells(s.p50, get(js)?.p50, get(limit)?.p50),
      ...ratioCells(s.p99, get(js)?.p99, get(limit)?.p99),
      formatNumber(serverMsPerExec),
      pct(m.client),
    ]);
  }
  const notes = [`${runs} runs per system after ${warmup} warm-up runs, in ${rounds} interleaved rounds; one request in flight at a time.`];
  const lim = get(limit);
  for (const v of variants.filter((x) => x.sys.key === 'gateway')) {
    const s = sums.get(v)!;
    if (!lim) continue;
    const overhead = s.p50 - lim.p50;
    notes.push(`gateway overhead (${v.format}): p50 ${overhead >= 0 ? '+' : ''}${overhead.toFixed(2)} ms, p99 ${(s.p99 - lim.p99 >= 0 ? '+' : '') + (s.p99 - lim.p99).toFixed(2)} ms over direct ZeroMQ`);
    ctx.targets.push({
      figure: '2. execute round trip',
      target: `gateway ${v.format} p50 within 0.3 ms of direct ZeroMQ`,
      measured: `${s.p50.toFixed(2)} ms vs ${lim.p50.toFixed(2)} ms (+${overhead.toFixed(2)} ms)`,
      met: overhead <= 0.3,
    });
    ctx.targets.push({
      issue: 15,
      figure: '2. execute round trip',
      target: `gateway ${v.format} overhead at most 0.3 ms p50`,
      measured: `${s.p50.toFixed(2)} ms vs ${lim.p50.toFixed(2)} ms direct (${overhead >= 0 ? '+' : ''}${overhead.toFixed(2)} ms)`,
      met: overhead <= 0.3,
    });
  }
  for (const b of variants.filter((x) => x.sys.key === 'baseline')) {
    const v = variants.find((x) => x.sys.key === 'gateway' && x.format === b.format);
    if (!v) continue;
    const [now, then] = [sums.get(v)!, sums.get(b)!];
    const perRound = roundMedians.get(v)!.map((x, i) => x / roundMedians.get(b)![i]!);
    notes.push(
      baselineNote(v.name, b.name, [
        { what: 'p50', unit: 'ms', current: now.p50, baseline: then.p50, rounds: perRound },
        { what: 'p99', unit: 'ms', current: now.p99, baseline: then.p99 },
        { what: 'server CPU', unit: 'ms/exec', current: cpuPerExec(v), baseline: cpuPerExec(b) },
      ]),
    );
  }
  notes.push(...opened.missing);
  notes.push(...[...new Set(errors)].map((e) => `ERROR: ${e}`));
  return { id: 'execute_rtt', title: 'Figure 2 — execute round trip `1+1` (request sent -> status idle)', table, notes, data };
}
