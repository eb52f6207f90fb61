// Figure 3: output streaming. One cell prints N lines of 1 KB (999 characters and a newline);
// MB/s is the printed bytes that reached the client over the time from request sent to
// `status: idle`. The server's peak RSS is its VmHWM, reset before each run (clear_refs),
// and VmRSS sampled every 20 ms as a fallback; only the server process counts, not kernels.
import { RssSampler, peakRssBytes, resetPeakRss } from '../lib/procs.js';
import { CpuMeter, baselineNote, formatNumber, pct, ratioCells, type BenchContext, type FigureReport } from '../lib/report.js';
import { MiB, formatRatio, median, ratio, roundOrder } from '../lib/stats.js';
import { references, type OpenVariant, type OpenedVariants } from '../lib/variants.js';

const LINE = 1000;

function cell(lines: number): string {
  return `_line = 'x' * ${LINE - 1}\nfor _i in range(${lines}):\n    print(_line)\n`;
}

export async function streamingFigure(ctx: BenchContext, opened: OpenedVariants): Promise<FigureReport> {
  const megabytes = ctx.quick ? 10 : 50;
  const lines = (megabytes * 1e6) / LINE;
  const expected = lines * LINE;
  const rounds = ctx.quick ? 3 : 5;
  const variants = opened.open;
  const rates = new Map<OpenVariant, number[]>();
  const peaks = new Map<OpenVariant, number>();
  /** RSS just before the run that had the highest peak: how much of the peak was already there. */
  const before = new Map<OpenVariant, number>();
  const meters = new Map<OpenVariant, CpuMeter>();
  const problems: string[] = [];
  for (const v of variants) {
    rates.set(v, []);
    meters.set(v, new CpuMeter(v.sys.serverPid));
    await v.client.execute(cell(1000), 60_000); // warm-up: 1 MB
  }
  let hwmUsable = true;
  let largestMessage = 0;
  for (let r = 0; r < rounds; r++) {
    for (const v of roundOrder(variants, r)) {
      const pid = v.sys.serverPid;
      const sampler = pid === undefined ? undefined : new RssSampler(pid, 20);
      if (pid !== undefined && !resetPeakRss(pid)) hwmUsable = false;
      sampler?.start();
      let outcome;
      try {
        outcome = await meters.get(v)!.span(() => v.client.execute(cell(lines), 600_000));
      } finally {
        sampler?.stop();
      }
      largestMessage = Math.max(largestMessage, outcome.maxStreamChars);
      if (outcome.streamChars !== expected) problems.push(`${v.name}: received ${outcome.streamChars} of ${expected} characters`);
      if (outcome.errors) problems.push(`${v.name}: the cell raised an error`);
      rates.get(v)!.push(outcome.streamChars / 1e6 / (outcome.ms / 1000));
      if (pid !== undefined && sampler) {
        const hwm = hwmUsable ? (peakRssBytes(pid) ?? 0) : 0;
        const peakNow = Math.max(sampler.max, hwm);
        if (peakNow > (peaks.get(v) ?? 0)) {
          peaks.set(v, peakNow);
          before.set(v, sampler.samples[0] ?? 0);
        }
      }
    }
  }
  const { js, limit } = references(variants);
  const rate = (v: OpenVariant | undefined): number | undefined => (v ? median(rates.get(v)!) : undefined);
  const peak = (v: OpenVariant | undefined): number | undefined => (v && peaks.has(v) ? peaks.get(v)! / MiB : undefined);
  const rssBefore = (v: OpenVariant): number | undefined => (before.has(v) ? before.get(v)! / MiB : undefined);
  const table = [['system', 'MB/s', 'vs JS', 'vs limit', 'peak RSS MiB', 'vs JS', 'RSS before MiB', 'server CPU', 'client CPU']];
  const data: Record<string, unknown> = {};
  for (const v of variants) {
    const m = meters.get(v)!;
    m.noteClient(ctx, `output streaming, ${v.name}`);
    m.recordCost(ctx, v.sys, v.format, '3');
    data[v.name] = { system: v.sys.key, format: v.format, mb_per_s: rates.get(v), peak_rss_mib: peak(v), rss_before_mib: rssBefore(v), server_cpu: m.server, client_cpu: m.client, largest_message_mb: largestMessage / 1e6 };
    table.push([v.name, formatNumber(rate(v)), ...ratioCells(rate(v), rate(js), rate(limit)), formatNumber(peak(v)), ratioCells(peak(v), peak(js), undefined)[0], formatNumber(rssBefore(v)), pct(m.server), pct(m.client)]);
  }
  // Issue 15 wants the peak of a gateway that has done the other figures, not only of a fresh one:
  // the run order (figures 1, 4/5, 2, then 3) gives that; with --only=3 the servers are fresh.
  const used = ctx.done.includes(2) && ctx.done.includes(4);
  const state = used ? `used servers: they had already run figures ${ctx.done.join(', ')} in this run` : ctx.done.length ? `servers that had run figures ${ctx.done.join(', ')} only` : 'fresh servers (no figure before this one)';
  const notes = [
    `${megabytes} MB printed in 1 KB lines per run, ${rounds} interleaved rounds (median MB/s, highest peak RSS); server CPU and client CPU as a share of one core.`,
    `${hwmUsable ? 'peak RSS: VmHWM reset before each run, and VmRSS sampled every 20 ms' : 'peak RSS: VmRSS sampled every 20 ms (VmHWM could not be reset here)'}; RSS before: the server's RSS as that run began (what earlier figures left in its heap counts in the peak too).`,
    `peak RSS measured on ${state}.`,
  ];
  for (const v of variants.filter((x) => x.sys.key === 'gateway')) {
    const lim = rate(limit);
    if (lim !== undefined) {
      ctx.targets.push({
        figure: '3. output streaming',
        target: `gateway ${v.format} at least 0.9x direct MB/s`,
        measured: `${formatNumber(rate(v))} vs ${formatNumber(lim)} MB/s (${((rate(v)! / lim) * 100).toFixed(0)}%)`,
        met: rate(v)! >= 0.9 * lim,
      });
    }
    ctx.targets.push({
      figure: '3. output streaming',
      target: `gateway ${v.format} peak RSS under 150 MiB`,
      measured: `${formatNumber(peak(v))} MiB (${megabytes} MB output)`,
      met: (peak(v) ?? Infinity) < 150,
    });
    if (lim !== undefined) {
      ctx.targets.push({
        issue: 15,
        figure: '3. output streaming',
        target: `gateway ${v.format} at least 0.95x direct MB/s`,
        measured: `${formatNumber(rate(v))} vs ${formatNumber(lim)} MB/s (${formatRatio(ratio(rate(v), lim))}, ${megabytes} MB output)`,
        met: rate(v)! >= 0.95 * lim,
      });
    }
    ctx.targets.push({
      issue: 15,
      figure: '3. output streaming',
      target: `gateway ${v.format} peak RSS at most 150 MiB, used gateway`,
      measured: `${formatNumber(peak(v))} MiB (${megabytes} MB output; ${used ? `after figures ${ctx.done.join(', ')}` : `${ctx.done.length ? `after figure(s) ${ctx.done.join(', ')} only` : 'fresh gateway'}: not judged, run it with figures 2 and 4`})`,
      met: used ? (peak(v) ?? Infinity) <= 150 : undefined,
    });
  }
  // ipykernel batches a busy cell's output (its flush runs when the cell lets it): if the
  // whole output arrives as one message, every server must hold at least that much at once.
  notes.push(`largest single stream message seen: ${(largestMessage / 1e6).toFixed(1)} MB of text; a server holds at least one whole message in memory (ZeroMQ delivers messages whole).`);
  for (const b of variants.filter((x) => x.sys.key === 'baseline')) {
    const v = variants.find((x) => x.sys.key === 'gateway' && x.format === b.format);
    if (!v) continue;
    const perRound = rates.get(v)!.map((x, i) => x / rates.get(b)![i]!);
    notes.push(
      baselineNote(v.name, b.name, [
        { what: 'MB/s', unit: '', current: rate(v), baseline: rate(b), rounds: perRound },
        { what: 'peak RSS', unit: 'MiB', current: peak(v), baseline: peak(b) },
        { what: 'server CPU', unit: 'of a core', current: meters.get(v)!.server, baseline: meters.get(b)!.server },
      ]),
    );
  }
  notes.push(...opened.missing);
  notes.push(...problems.map((p) => `PROBLEM: ${p}`));
  return { id: 'streaming', title: `Figure 3 — output streaming (${megabytes} MB in 1 KB lines)`, table, notes, data };
}
