// Pure helpers for the benchmark: percentiles, summaries and the ratio/number formatting the
// tables use. Kept free of I/O so that test/bench/stats.test.ts can check them.

/** The p-th percentile (0..100) by the nearest-rank method; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function mean(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  let s = 0;
  for (const x of samples) s += x;
  return s / samples.length;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? samples.reduce((a, b) => Math.max(a, b), -Infinity) : NaN,
    mean: mean(samples),
  };
}

/** value / reference, or undefined when either is missing, not finite, or the reference is 0. */
export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined) return undefined;
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return undefined;
  return value / reference;
}

/** "0.52x"; "—" when there is no ratio. Two significant digits below 10, whole numbers above. */
export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r >= 10) return `${Math.round(r)}x`;
  if (r >= 1) return `${r.toFixed(2)}x`;
  return `${r.toPrecision(2)}x`;
}

/** A number for a table cell with about three significant digits; "—" for missing. */
export function formatNumber(v: number | undefined, unit = ''): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  let s: string;
  if (abs >= 100) s = Math.round(v).toString();
  else if (abs >= 10) s = v.toFixed(1);
  else if (abs >= 1) s = v.toFixed(2);
  else if (abs === 0) s = '0';
  else s = v.toPrecision(2);
  return unit ? `${s} ${unit}` : s;
}

export const MiB = 1024 * 1024;

/** Renders rows as an aligned plain-text table (first row is the header). */
export function renderTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join('\n');
}

/** Renders rows as a GitHub markdown table (for bench/README.md). */
export function renderMarkdownTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const esc = (c: string): string => c.replaceAll('|', '\\|');
  const out = [`| ${rows[0]!.map(esc).join(' | ')} |`, `|${rows[0]!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows.slice(1)) out.push(`| ${row.map(esc).join(' | ')} |`);
  return out.join('\n');
}

/** The order systems are visited in round r: rotated so no system is always first or last. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const k = ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Least-squares slope of y over x, with its standard error (NaN with fewer than 3 points). */
export function linearSlope(xs: readonly number[], ys: readonly number[]): { slope: number; stderr: number } {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return { slope: NaN, stderr: NaN };
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return { slope: NaN, stderr: NaN };
  const slope = sxy / sxx;
  if (n < 3) return { slope, stderr: NaN };
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (my + slope * (xs[i]! - mx))) ** 2;
  return { slope, stderr: Math.sqrt(sse / (n - 2) / sxx) };
}
