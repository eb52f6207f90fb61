// The cost model: a server's CPU over a measured span fitted as a·messages + b·bytes, where
// messages and bytes are the websocket frames and payload bytes it relayed for the bench's
// clients (both ways), from the spans the figures already measure: figure 2 (many small
// messages), figure 3 (few huge ones) and figure 9 (many kernels). With a and b anyone can
// predict the server's CPU at a load: CPU share of a core = (a·messages/s + b·bytes/s) / 1 s.
// Least squares of the error relative to each span's CPU (a small span weighs as much as a large
// one), each figure weighing the same in all (its spans share its weight), no intercept; a
// coefficient that comes out negative is dropped and the other refitted alone.
import { formatNumber, type CostSample, type FigureReport } from './report.js';

export interface CostFit {
  /** Seconds of server CPU per relayed message. */
  perMessageS: number;
  perMessageErrS: number;
  /** Seconds of server CPU per relayed byte. */
  perByteS: number;
  perByteErrS: number;
  spans: number;
}

/** Weighted least squares of cpuS over messages and bytes without intercept, weights 1/(cpuS² · spans of its figure). */
export function fitCost(samples: readonly Pick<CostSample, 'cpuS' | 'messages' | 'bytes' | 'figure'>[]): CostFit | undefined {
  const pts = samples.filter((s) => s.cpuS > 0);
  if (pts.length < 2) return undefined;
  const perFigure = new Map<string, number>();
  for (const p of pts) perFigure.set(p.figure, (perFigure.get(p.figure) ?? 0) + 1);
  const weight = (p: (typeof pts)[number]): number => 1 / (p.cpuS * p.cpuS * perFigure.get(p.figure)!);
  const solve = (useM: boolean, useB: boolean): { a: number; b: number; ea: number; eb: number } => {
    let smm = 0;
    let smb = 0;
    let sbb = 0;
    let smy = 0;
    let sby = 0;
    for (const p of pts) {
      const w = weight(p);
      const m = useM ? p.messages : 0;
      const b = useB ? p.bytes : 0;
      smm += w * m * m;
      smb += w * m * b;
      sbb += w * b * b;
      smy += w * m * p.cpuS;
      sby += w * b * p.cpuS;
    }
    let a = 0;
    let b = 0;
    let iaa = 0;
    let ibb = 0;
    if (useM && useB) {
      const det = smm * sbb - smb * smb;
      if (det === 0) return { a: NaN, b: NaN, ea: NaN, eb: NaN };
      a = (smy * sbb - sby * smb) / det;
      b = (sby * smm - smy * smb) / det;
      iaa = sbb / det;
      ibb = smm / det;
    } else if (useM) {
      a = smy / smm;
      iaa = 1 / smm;
    } else {
      b = sby / sbb;
      ibb = 1 / sbb;
    }
    const k = (useM ? 1 : 0) + (useB ? 1 : 0);
    // Weighted residuals; the weights sum to the number of figures, so that is the sample size.
    let sse = 0;
    for (const p of pts) sse += weight(p) * (p.cpuS - a * p.messages - b * p.bytes) ** 2;
    const n = perFigure.size;
    const sigma2 = n > k ? sse / (n - k) : NaN;
    return { a, b, ea: Math.sqrt(sigma2 * iaa), eb: Math.sqrt(sigma2 * ibb) };
  };
  let r = solve(true, true);
  if (!(r.a >= 0) || !(r.b >= 0)) r = r.a < 0 ? solve(false, true) : solve(true, false);
  if (!Number.isFinite(r.a) || !Number.isFinite(r.b)) return undefined;
  return { perMessageS: r.a, perMessageErrS: r.ea, perByteS: r.b, perByteErrS: r.eb, spans: pts.length };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The cost model's section of the report: coefficients per server and format, and how well they fit each figure. */
export function costModelReport(samples: readonly CostSample[]): FigureReport {
  const table = [['system', 'format', 'µs / message', '±', 'µs / kB', '±', 'spans', 'per figure: measured CPU s / model s']];
  const data: Record<string, unknown> = {};
  const groups = new Map<string, CostSample[]>();
  for (const s of samples) {
    const key = `${s.label}\u0000${s.format}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, group] of groups) {
    const [label, format] = key.split('\u0000') as [string, string];
    const fit = fitCost(group);
    const figures = [...new Set(group.map((g) => g.figure))].sort();
    const perFigure = figures.map((f) => {
      const g = group.filter((x) => x.figure === f);
      const cpu = sum(g.map((x) => x.cpuS));
      const model = fit ? sum(g.map((x) => fit.perMessageS * x.messages + fit.perByteS * x.bytes)) : NaN;
      return { figure: f, cpu_s: cpu, model_s: model, messages: sum(g.map((x) => x.messages)), bytes: sum(g.map((x) => x.bytes)), wall_s: sum(g.map((x) => x.wallS)) };
    });
    data[`${label} ${format}`] = { fit, per_figure: perFigure, spans: group };
    table.push([
      label,
      format,
      formatNumber(fit ? fit.perMessageS * 1e6 : undefined),
      formatNumber(fit ? fit.perMessageErrS * 1e6 : undefined),
      formatNumber(fit ? fit.perByteS * 1e9 : undefined),
      formatNumber(fit ? fit.perByteErrS * 1e9 : undefined),
      String(group.length),
      perFigure.map((p) => `fig ${p.figure}: ${formatNumber(p.cpu_s)} / ${formatNumber(p.model_s)}`).join(', '),
    ]);
  }
  const notes = [
    'server CPU (utime+stime of its process) over each measured span = a·messages + b·bytes, messages and bytes being the websocket frames and payload bytes relayed for the bench clients, both ways; fitted over the spans of figures 2 (many small messages), 3 (few huge ones) and 9 (many kernels), least squares of the relative error, each figure weighing the same (its spans share it), no constant term. µs / kB = ns / byte (1 kB = 1000 bytes).',
    "use: CPU share of one core ≈ (a·messages/s + b·bytes/s); e.g. one execute of `2+2` is 6 messages of about 0.3 to 0.6 kB each (the request, and status busy, execute_input, execute_result, status idle, execute_reply). A figure missing from a run leaves its kind of load out of the fit (with only small messages, b is not determined): read the per-figure column.",
  ];
  if (!groups.size) notes.unshift('NOT MEASURED: no figure with a server span ran (figures 2, 3 or 9).');
  return { id: 'cost_model', title: 'Cost model — server CPU per relayed message and per byte', table, notes, data };
}
