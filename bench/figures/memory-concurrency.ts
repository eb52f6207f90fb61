// Figures 4 and 5, which share their kernels:
// 5. server RSS idle (no kernel yet, right after start) and per extra running kernel: the
//    slope between 1 and N kernels (each started over REST and used once), so one-time
//    costs (lazy loading, JIT) of the first kernel are not counted as per-kernel;
// 4. concurrency: 8 and then 32 of those kernels, one websocket client each (JSON format),
//    each client executing `1+1` in a closed loop for a fixed time; total executes/s, latency
//    percentiles, the server's CPU (utime+stime of its own process) and its RSS.
import type { KernelClient } from '../lib/clients.js';
import { RssSampler, anonRssBytes, kernelPid, rssBytes, sleep } from '../lib/procs.js';
import { CpuMeter, baselineNote, formatNumber, pct, ratioCells, sys, type BenchContext, type FigureReport } from '../lib/report.js';
import { MiB, linearSlope, median, percentile, roundOrder } from '../lib/stats.js';
import type { KernelHandle, SystemUnderTest } from '../lib/systems.js';

/** Median VmRSS over `ms` after a settle, to keep a GC or an allocation burst out of it. */
async function steadyRss(pid: number, settleMs = 1000, ms = 1000): Promise<number | undefined> {
  await sleep(settleMs);
  const s = new RssSampler(pid, 50).start();
  await sleep(ms);
  s.stop();
  return s.samples.length ? median(s.samples) : rssBytes(pid);
}

export interface IdleRss {
  rss: number;
  /** RssAnon: the same without file-backed pages (the node or python binary, shared libraries). */
  anon: number | undefined;
}

/** All servers at once (they settle in parallel): median VmRSS over 1 s, 5 s after start. */
export async function measureIdleRss(ctx: BenchContext): Promise<Map<SystemUnderTest, IdleRss>> {
  const idle = new Map<SystemUnderTest, IdleRss>();
  await Promise.all(
    ctx.systems.map(async (s) => {
      if (s.serverPid === undefined) return;
      const v = await steadyRss(s.serverPid, Math.max(0, 5000 - (Date.now() - ctx.startedAt)));
      if (v !== undefined) idle.set(s, { rss: v, anon: anonRssBytes(s.serverPid) });
    }),
  );
  return idle;
}

/**
 * Starts `n` kernels, at most `parallel` at a time, each until it has answered one
 * kernel_info_request over a websocket that is then closed: Jupyter Server's POST returns
 * before its kernel is up, and a kernel still booting would both skew the RSS reading and
 * steal CPU from whatever is measured next.
 */
async function startKernels(s: SystemUnderTest, n: number, parallel: number): Promise<KernelHandle[]> {
  const out: KernelHandle[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const k = await s.startKernelRetrying();
      out.push(k);
      const c = await s.connect(k, s.formats.includes('zmq') ? 'zmq' : 'json');
      await c.kernelInfo(120_000);
      await c.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}

interface LoopResult {
  count: number;
  wallS: number;
  latencies: number[];
}

async function closedLoops(clients: KernelClient[], durationMs: number): Promise<LoopResult> {
  const latencies: number[] = [];
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  await Promise.all(
    clients.map(async (c) => {
      while (Date.now() < deadline) latencies.push((await c.execute('1+1', 60_000)).ms);
    }),
  );
  return { count: latencies.length, wallS: Number(process.hrtime.bigint() - t0) / 1e9, latencies };
}

interface LevelStats {
  count: number;
  wallS: number;
  latencies: number[];
  rssMax: number;
  meter: CpuMeter;
}

export async function memoryAndConcurrencyFigures(ctx: BenchContext, idle: Map<SystemUnderTest, IdleRss>): Promise<FigureReport[]> {
  const levels = [8, 32];
  const maxKernels = Math.max(...levels);
  const rounds = ctx.quick ? 1 : 2;
  const durationMs = ctx.quick ? 2500 : 10_000;
  const kernels = new Map<SystemUnderTest, KernelHandle[]>();
  const clients = new Map<SystemUnderTest, KernelClient[]>();
  const perKernel = new Map<SystemUnderTest, { slope: number; stderr: number }>();
  const rssAt = new Map<SystemUnderTest, { one: number; all: number }>();
  const notes4: string[] = [];
  const notes5: string[] = [];
  const report: FigureReport[] = [];
  try {
    // Kernels in batches of 4 up to 32, one system at a time, the server's RSS after each
    // batch: the per-kernel figure is the least-squares slope over those points, which
    // averages out some of the garbage collector's ups and downs (they are as large as the
    // whole signal in a Node process).
    for (const s of ctx.systems) {
      const t0 = Date.now();
      try {
        const ks: KernelHandle[] = [];
        const xs: number[] = [];
        const ys: number[] = [];
        while (ks.length < maxKernels) {
          ks.push(...(await startKernels(s, ks.length === 0 ? 1 : Math.min(4, maxKernels - ks.length), 4)));
          if (s.serverPid === undefined) continue;
          const v = await steadyRss(s.serverPid, ks.length === 1 ? 1000 : ctx.quick ? 250 : 400, ctx.quick ? 250 : 400);
          if (v !== undefined) {
            xs.push(ks.length);
            ys.push(v);
          }
        }
        kernels.set(s, ks);
        if (xs.length >= 3) {
          rssAt.set(s, { one: ys[0]!, all: ys[ys.length - 1]! });
          perKernel.set(s, linearSlope(xs, ys));
        }
        ctx.log(`[bench] ${s.label}: ${maxKernels} kernels started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (err) {
        notes4.push(`FAILED: ${s.label}: could not start ${maxKernels} kernels (${(err as Error).message})`);
      }
    }
    for (const [s, ks] of kernels) {
      for (const k of ks) k.pid ??= kernelPid(k.id);
      const cs: KernelClient[] = [];
      for (const k of ks) cs.push(await s.connect(k, s.formats.includes('zmq') ? 'zmq' : 'json'));
      clients.set(s, cs);
      await Promise.all(cs.map(async (c) => {
        for (let i = 0; i < 3; i++) await c.execute('1+1', 60_000);
      }));
    }

    const ready = ctx.systems.filter((s) => clients.has(s));
    const stats = new Map<string, LevelStats>();
    const key = (s: SystemUnderTest, level: number): string => `${s.key}/${level}`;
    for (const level of levels) {
      for (let r = 0; r < rounds; r++) {
        for (const s of roundOrder(ready, r)) {
          const st = stats.get(key(s, level)) ?? { count: 0, wallS: 0, latencies: [], rssMax: 0, meter: new CpuMeter(s.serverPid) };
          stats.set(key(s, level), st);
          const sampler = s.serverPid === undefined ? undefined : new RssSampler(s.serverPid, 50).start();
          const res = await st.meter.span(() => closedLoops(clients.get(s)!.slice(0, level), durationMs));
          sampler?.stop();
          st.count += res.count;
          st.wallS += res.wallS;
          st.latencies.push(...res.latencies);
          st.rssMax = Math.max(st.rssMax, sampler?.max ?? 0);
        }
      }
    }
    const js = sys(ctx, 'jupyter');
    const limit = sys(ctx, 'direct');
    const rate = (s: SystemUnderTest | undefined, level: number): number | undefined => {
      const st = s ? stats.get(key(s, level)) : undefined;
      return st ? st.count / st.wallS : undefined;
    };
    const p99 = (s: SystemUnderTest | undefined, level: number): number | undefined => {
      const st = s ? stats.get(key(s, level)) : undefined;
      return st ? percentile(st.latencies, 99) : undefined;
    };
    const table4 = [['system', 'kernels', 'executes/s', 'vs JS', 'vs limit', 'p50 ms', 'p99 ms', 'p99 vs JS', 'p99 vs limit', 'server CPU', 'server RSS MiB', 'client CPU']];
    const data4: Record<string, unknown> = {};
    for (const level of levels) {
      for (const s of ready) {
        const st = stats.get(key(s, level))!;
        st.meter.noteClient(ctx, `concurrency ${level}, ${s.label}`);
        const rssMiB = s.serverPid === undefined ? undefined : st.rssMax / MiB;
        data4[key(s, level)] = { system: s.key, kernels: level, executes_per_s: rate(s, level), p50_ms: percentile(st.latencies, 50), p99_ms: p99(s, level), server_cpu: st.meter.server, server_rss_mib: rssMiB, client_cpu: st.meter.client };
        table4.push([
          s.label,
          String(level),
          formatNumber(rate(s, level)),
          ...ratioCells(rate(s, level), rate(js, level), rate(limit, level)),
          formatNumber(percentile(st.latencies, 50)),
          formatNumber(p99(s, level)),
          ...ratioCells(p99(s, level), p99(js, level), p99(limit, level)),
          pct(st.meter.server),
          formatNumber(rssMiB),
          pct(st.meter.client),
        ]);
      }
    }
    notes4.unshift(`closed loops of \`1+1\`, one websocket (JSON) or ZeroMQ client per kernel, ${durationMs / 1000} s per system and level, ${rounds} interleaved round(s); server CPU as a share of one core (the machine has 2).`);
    const gw = sys(ctx, 'gateway');
    const base = sys(ctx, 'baseline');
    if (gw && base) {
      for (const level of levels) {
        const [now, then] = [stats.get(key(gw, level)), stats.get(key(base, level))];
        if (!now || !then) continue;
        notes4.push(
          baselineNote(`${gw.label}, ${level} kernels`, base.label, [
            { what: 'executes/s', unit: '', current: rate(gw, level), baseline: rate(base, level) },
            { what: 'p99', unit: 'ms', current: p99(gw, level), baseline: p99(base, level) },
            { what: 'server CPU', unit: 'of a core', current: now.meter.server, baseline: then.meter.server },
          ]),
        );
      }
    }
    if (gw && limit && rate(gw, 32) !== undefined && rate(limit, 32) !== undefined) {
      ctx.targets.push({
        figure: '4. concurrency',
        target: '32 kernels: gateway at least 0.9x direct executes/s',
        measured: `${formatNumber(rate(gw, 32))} vs ${formatNumber(rate(limit, 32))} executes/s (${((rate(gw, 32)! / rate(limit, 32)!) * 100).toFixed(0)}%)`,
        met: rate(gw, 32)! >= 0.9 * rate(limit, 32)!,
      });
    }
    report.push({ id: 'concurrency', title: 'Figure 4 — concurrency: closed-loop executes on 8 and 32 kernels', table: table4, notes: notes4, data: data4 });
  } finally {
    for (const cs of clients.values()) for (const c of cs) await c.close();
    for (const [s, ks] of kernels) {
      await Promise.all(ks.map((k) => s.shutdownKernel(k).catch((err: Error) => ctx.log(`[bench] ${s.label}: shutdown of ${k.id} failed: ${err.message}`))));
    }
  }

  const js = sys(ctx, 'jupyter');
  const kib = (v: number | undefined): number | undefined => (v === undefined ? undefined : v / 1024);
  const mib = (v: number | undefined): number | undefined => (v === undefined ? undefined : v / MiB);
  const table5 = [['system', 'idle RSS MiB', 'vs JS', 'idle RssAnon MiB', 'vs JS', `RSS 1 kernel`, `RSS ${maxKernels} kernels`, 'per extra kernel KiB', '±', 'vs JS']];
  const data5: Record<string, unknown> = {};
  for (const s of ctx.systems) {
    if (s.serverPid === undefined) continue;
    const idleB = idle.get(s)?.rss;
    const anonB = idle.get(s)?.anon;
    const at = rssAt.get(s);
    data5[s.key] = { idle_rss_mib: mib(idleB), idle_rss_anon_mib: mib(anonB), rss_1_kernel_mib: mib(at?.one), [`rss_${maxKernels}_kernels_mib`]: mib(at?.all), per_extra_kernel_kib: kib(perKernel.get(s)?.slope), per_extra_kernel_stderr_kib: kib(perKernel.get(s)?.stderr) };
    table5.push([
      s.label,
      formatNumber(mib(idleB)),
      ratioCells(idleB, js ? idle.get(js)?.rss : undefined, undefined)[0],
      formatNumber(mib(anonB)),
      ratioCells(anonB, js ? idle.get(js)?.anon : undefined, undefined)[0],
      formatNumber(mib(at?.one)),
      formatNumber(mib(at?.all)),
      formatNumber(kib(perKernel.get(s)?.slope)),
      formatNumber(kib(perKernel.get(s)?.stderr)),
      ratioCells(perKernel.get(s)?.slope, js ? perKernel.get(js)?.slope : undefined, undefined)[0],
    ]);
  }
  notes5.push(
    `server process only (kernels excluded); idle = median VmRSS over 1 s, 5 s after the bench started, before any kernel (RssAnon: the same without file-backed pages such as the node or python binary and shared libraries); per extra kernel = least-squares slope of RSS over the number of kernels (1, then batches of 4 up to ${maxKernels}), ± its standard error; each kernel started over REST and used once (a websocket opened, one kernel_info round trip, closed) so that it is up. A Node server's RSS moves by megabytes with its garbage collector, so its slope is noisy: read it with the ±. The limit has no server process, so no row.`,
  );
  const gw = sys(ctx, 'gateway');
  if (gw) {
    const gwIdle = idle.get(gw)?.rss;
    const jsIdle = js ? idle.get(js)?.rss : undefined;
    ctx.targets.push({
      figure: '5. server RSS',
      target: 'gateway idle RSS at most 0.6x Jupyter Server',
      measured: gwIdle !== undefined && jsIdle !== undefined ? `${formatNumber(mib(gwIdle))} vs ${formatNumber(mib(jsIdle))} MiB (${(gwIdle / jsIdle).toFixed(2)}x)` : 'not measured (Jupyter Server missing)',
      met: gwIdle !== undefined && jsIdle !== undefined ? gwIdle <= 0.6 * jsIdle : undefined,
    });
    ctx.targets.push({
      issue: 15,
      figure: '5. server RSS',
      target: 'gateway idle RSS at most 60 MiB',
      measured: gwIdle === undefined ? 'not measured' : `${formatNumber(mib(gwIdle))} MiB (RssAnon ${formatNumber(mib(idle.get(gw)?.anon))} MiB)`,
      met: gwIdle === undefined ? undefined : gwIdle <= 60 * MiB,
    });
    const pk = perKernel.get(gw);
    ctx.targets.push({
      figure: '5. server RSS',
      target: 'gateway at most 190 KiB per extra kernel',
      measured: pk === undefined ? 'not measured' : `${formatNumber(kib(pk.slope))} ± ${formatNumber(kib(pk.stderr))} KiB`,
      met: pk === undefined || !Number.isFinite(pk.slope) ? undefined : pk.slope <= 190 * 1024,
    });
  }
  report.push({ id: 'memory', title: 'Figure 5 — server RSS idle and per extra running kernel', table: table5, notes: notes5, data: data5 });
  return report;
}
