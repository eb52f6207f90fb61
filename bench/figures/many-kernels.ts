// Figure 9 (issue 15): many kernels, in the spirit of Zasper's benchmark. N kernels (100), each
// with its own websocket client (JSON) sending `2+2` once a second, open loop (a request goes out
// on time whether or not the last one is answered), the N clients' sends spread evenly over the
// second, for a fixed time. Executes/s delivered (status idle arrived), messages/s relayed (both
// ways), round trip p50/p99, the server's CPU and RSS (peak and at the end, N kernels still up).
// 100 ipykernels are some 5 GB, so the systems never have their kernels at the same time: a
// system starts its N kernels, is measured, shuts them all down, then the next one; with 2
// rounds they take turns (A, B, then B, A). The servers are started for this figure (fresh).
import type { KernelClient } from '../lib/clients.js';
import { RssSampler, kernelPid, processRunning, peakRssBytes, resetPeakRss, rssBytes, sleep } from '../lib/procs.js';
import { CpuMeter, formatNumber, pct, ratioCells, type BenchContext, type FigureReport, type TargetCheck } from '../lib/report.js';
import { MiB, percentile, ratio, roundOrder } from '../lib/stats.js';
import type { KernelHandle, SystemUnderTest } from '../lib/systems.js';

const CODE = '2+2';
/** Kernels started at a time: more only makes them fight for the 2 cores (and for ports). */
const START_PARALLEL = 4;

export interface ManyKernelsSize {
  kernels: number;
  rounds: number;
  /** Measured seconds per system and round; each client sends one execute per second. */
  seconds: number;
}

/**
 * 100 kernels, 2 rounds of 30 s (full); 50 kernels, 1 round of 20 s (quick: two systems' 100
 * kernel starts and shutdowns alone would take the quick run past 5 minutes).
 * KG_BENCH_FIG9=kernels,rounds,seconds overrides (development).
 */
export function manyKernelsSize(quick: boolean): ManyKernelsSize {
  const env = process.env.KG_BENCH_FIG9;
  if (env) {
    const [kernels, rounds, seconds] = env.split(',').map(Number);
    if (kernels! > 0 && rounds! > 0 && seconds! > 0) return { kernels: kernels!, rounds: rounds!, seconds: seconds! };
    throw new Error(`KG_BENCH_FIG9=${env}: want kernels,rounds,seconds (e.g. 10,1,10)`);
  }
  return quick ? { kernels: 50, rounds: 1, seconds: 20 } : { kernels: 100, rounds: 2, seconds: 30 };
}

interface Up {
  kernels: KernelHandle[];
  clients: KernelClient[];
}

/** Starts n kernels a few at a time, each with its websocket open and one kernel_info answered. */
async function startMany(s: SystemUnderTest, n: number, log: (m: string) => void): Promise<Up> {
  const up: Up = { kernels: [], clients: [] };
  let ready = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      // A kernel that never answers (ipykernel's heartbeat thread can die of a port taken
      // meanwhile) is shut down and replaced, twice at most: set-up, not what is measured.
      for (let attempt = 1; ; attempt++) {
        const k = await s.startKernelRetrying();
        let c: KernelClient | undefined;
        try {
          c = await s.connect(k, 'json');
          await c.kernelInfo(60_000);
          up.kernels.push(k);
          up.clients.push(c);
          break;
        } catch (err) {
          await c?.close();
          await s.shutdownKernel(k).catch(() => undefined);
          if (attempt >= 3) throw err;
          s.retries.count++;
          s.retries.last = (err as Error).message;
          log(`[bench] figure 9: ${s.label}: a kernel did not answer, replaced (${(err as Error).message})`);
        }
      }
      if (++ready % 20 === 0) log(`[bench] figure 9: ${s.label}: ${ready}/${n} kernels up`);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(START_PARALLEL, n) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopMany(s, up);
    const err = failed.reason as Error & { cause?: Error };
    const tail = 'logTail' in s && typeof s.logTail === 'function' ? (s.logTail as () => string)().split('\n').slice(-5).join(' | ') : '';
    const alive = s.serverPid !== undefined && processRunning(s.serverPid);
    log(`[bench] figure 9: ${s.label}: start failed after ${ready} kernels; server running: ${alive}; its log ends: ${tail}`);
    throw new Error(`${ready} kernels were up when one failed${alive ? '' : ', and the server process had died'}${!alive && tail ? ` (its log ends: ${tail.slice(0, 300)})` : ''}: ${err.message}${err.cause ? ` (${err.cause.message})` : ''}`);
  }
  for (const k of up.kernels) k.pid ??= kernelPid(k.id);
  return up;
}

/** Closes the clients and shuts every kernel down (DELETE until its process is gone), 8 at a time. */
async function stopMany(s: SystemUnderTest, up: Up): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(up.clients.map((c) => c.close()));
  const queue = [...up.kernels];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let k = queue.shift(); k; k = queue.shift()) {
        await s.shutdownKernel(k).catch((err: Error) => failures.push(`${s.label}: shutdown of ${k.id}: ${err.message}`));
      }
    }),
  );
  return failures;
}

interface Tally {
  offered: number;
  delivered: number;
  late: number;
  sendS: number;
  latencies: number[];
  meter: CpuMeter;
  rssBefore: number;
  rssPeak: number;
  rssEnd: number;
  kernelsRss: number;
}

/** Every client sends `2+2` once a second for `seconds`, client i at i/n of the second. */
async function openLoops(clients: KernelClient[], seconds: number, t: Tally): Promise<void> {
  const n = clients.length;
  const t0 = Date.now() + 50;
  const inFlight: Promise<void>[] = [];
  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = 0; k < seconds; k++) {
        await sleep(Math.max(0, t0 + k * 1000 + (i * 1000) / n - Date.now()));
        t.offered++;
        inFlight.push(
          c.execute(CODE, 30_000).then(
            (o) => {
              t.delivered++;
              t.latencies.push(o.ms);
            },
            () => void t.late++,
          ),
        );
      }
    }),
  );
  t.sendS += seconds;
  await Promise.all(inFlight);
}

export async function manyKernelsFigure(ctx: BenchContext, systems: SystemUnderTest[]): Promise<FigureReport> {
  const size = manyKernelsSize(ctx.quick);
  const title = `Figure 9 — many kernels: ${size.kernels} kernels, each sent \`${CODE}\` once a second (${size.kernels} executes/s offered)`;
  const tallies = new Map<SystemUnderTest, Tally>();
  const notes: string[] = [];
  for (const s of systems) {
    tallies.set(s, { offered: 0, delivered: 0, late: 0, sendS: 0, latencies: [], meter: new CpuMeter(s.serverPid), rssBefore: 0, rssPeak: 0, rssEnd: 0, kernelsRss: 0 });
  }
  const failed = new Set<SystemUnderTest>();
  for (let r = 0; r < size.rounds; r++) {
    for (const s of roundOrder(systems, r)) {
      if (failed.has(s)) continue;
      const t = tallies.get(s)!;
      const t0 = Date.now();
      let up: Up;
      try {
        up = await startMany(s, size.kernels, ctx.log);
      } catch (err) {
        failed.add(s);
        notes.push(`FAILED: ${s.label}: could not start ${size.kernels} kernels (${(err as Error).message})`);
        continue;
      }
      ctx.log(`[bench] figure 9: ${s.label}: ${size.kernels} kernels up in ${((Date.now() - t0) / 1000).toFixed(1)} s, measuring ${size.seconds} s`);
      try {
        await Promise.all(up.clients.map((c) => c.execute(CODE, 60_000))); // warm-up, untimed
        await sleep(1000);
        const pid = s.serverPid!;
        t.rssBefore = Math.max(t.rssBefore, rssBytes(pid) ?? 0);
        const hwm = resetPeakRss(pid);
        const sampler = new RssSampler(pid, 100).start();
        await t.meter.span(() => openLoops(up.clients, size.seconds, t));
        sampler.stop();
        t.rssPeak = Math.max(t.rssPeak, sampler.max, hwm ? (peakRssBytes(pid) ?? 0) : 0);
        t.rssEnd = sampler.last;
        t.kernelsRss = Math.max(t.kernelsRss, up.kernels.reduce((a, k) => a + (k.pid === undefined ? 0 : (rssBytes(k.pid) ?? 0)), 0));
      } finally {
        notes.push(...(await stopMany(s, up)).map((f) => `FAILED: ${f}`));
      }
    }
  }

  const js = systems.find((s) => s.key === 'jupyter');
  const gw = systems.find((s) => s.key === 'gateway');
  const per = (s: SystemUnderTest | undefined, f: (t: Tally) => number | undefined): number | undefined => (s && tallies.get(s)!.sendS > 0 ? f(tallies.get(s)!) : undefined);
  const delivered = (t: Tally): number => t.delivered / t.sendS;
  const msgs = (t: Tally): number => t.meter.messages / t.sendS;
  const cpu = (t: Tally): number | undefined => t.meter.server;
  const peak = (t: Tally): number => t.rssPeak / MiB;
  const table = [['system', 'kernels', 'offered/s', 'delivered/s', 'delivered', 'messages/s', 'kB/s', 'p50 ms', 'p99 ms', 'server CPU', 'vs JS', 'RSS before MiB', 'peak RSS MiB', 'end RSS MiB', 'peak vs JS', 'client CPU']];
  const data: Record<string, unknown> = { size };
  for (const s of systems) {
    const t = tallies.get(s)!;
    if (t.sendS === 0) continue;
    t.meter.noteClient(ctx, `many kernels, ${s.label}`);
    t.meter.recordCost(ctx, s, 'json', '9');
    data[s.key] = {
      label: s.label,
      offered: t.offered,
      delivered: t.delivered,
      late: t.late,
      delivered_per_s: delivered(t),
      messages_per_s: msgs(t),
      bytes_per_s: t.meter.bytes / t.sendS,
      p50_ms: percentile(t.latencies, 50),
      p99_ms: percentile(t.latencies, 99),
      server_cpu: cpu(t),
      rss_before_mib: t.rssBefore / MiB,
      rss_peak_mib: peak(t),
      rss_end_mib: t.rssEnd / MiB,
      kernels_rss_gib: t.kernelsRss / 1024 ** 3,
      client_cpu: t.meter.client,
    };
    table.push([
      s.label,
      String(size.kernels),
      formatNumber(t.offered / t.sendS),
      formatNumber(delivered(t)),
      `${t.delivered}/${t.offered}`,
      formatNumber(msgs(t)),
      formatNumber(t.meter.bytes / t.sendS / 1000),
      formatNumber(percentile(t.latencies, 50)),
      formatNumber(percentile(t.latencies, 99)),
      pct(cpu(t)),
      ratioCells(cpu(t), per(js, cpu), undefined)[0],
      formatNumber(t.rssBefore / MiB),
      formatNumber(peak(t)),
      formatNumber(t.rssEnd / MiB),
      ratioCells(peak(t), per(js, peak), undefined)[0],
      pct(t.meter.client),
    ]);
  }
  const kernelsGiB = Math.max(...[...tallies.values()].map((t) => t.kernelsRss)) / 1024 ** 3;
  notes.unshift(
    `${size.kernels} kernels per system, one JSON websocket client each, all in the bench's one Node process; each client sends \`${CODE}\` once a second without waiting for the last answer (client i at i/${size.kernels} of the second), for ${size.seconds} s per system and round, ${size.rounds} round(s) (systems take turns; a system's kernels are started, ${START_PARALLEL} at a time, before its turn and all shut down after it, so only one system's kernels are up at a time: ${formatNumber(kernelsGiB)} GiB of kernels RSS). Untimed warm-up: one execute per kernel.`,
    'delivered: executes whose `status: idle` arrived within 30 s of the request; messages/s and kB/s: websocket frames and payload bytes both ways (requests in, replies and iopub out) over the sending time; server CPU: utime+stime of the server process as a share of one core (the machine has 2), kernels not counted; RSS before: the server with the kernels up and warmed, before the turn; peak: VmHWM reset before the turn and VmRSS sampled every 100 ms; end: VmRSS as the turn ended, kernels still up.',
    "Zasper's own benchmark (100 kernels, 10 executes/s each) reports 45 MB server RSS for Zasper and 1,143 MB for Jupyter Server, 3,911 messages/s delivered against 1,148: a heavier load than this one, sized for a 2-core machine.",
  );
  for (const s of systems) if (s.retries.count) notes.push(`${s.label}: ${s.retries.count} kernel start(s) failed during set-up and were retried (last: ${s.retries.last}).`);
  if (gw) {
    const t = tallies.get(gw)!;
    const judged = t.sendS > 0;
    const broke = failed.has(gw) ? 'the gateway could not hold the kernels (see the FAILED note)' : 'not measured';
    const jsCpu = per(js, cpu);
    const full = size.kernels >= 100;
    const targets: TargetCheck[] = [
      {
        issue: 15,
        figure: '9. many kernels',
        target: 'every offered execute delivered',
        measured: `${judged ? `${t.delivered}/${t.offered}` : broke}${js && tallies.get(js)!.sendS ? ` (Jupyter Server ${tallies.get(js)!.delivered}/${tallies.get(js)!.offered})` : ''}`,
        met: judged ? t.delivered === t.offered && !failed.has(gw) : failed.has(gw) ? false : undefined,
      },
      {
        issue: 15,
        figure: '9. many kernels',
        target: 'gateway RSS under 100 MiB at 100 kernels (peak)',
        measured: judged ? `peak ${formatNumber(peak(t))} MiB, end ${formatNumber(t.rssEnd / MiB)} MiB at ${size.kernels} kernels${full ? '' : ' (fewer than 100: not judged)'}` : broke,
        met: judged && full ? peak(t) < 100 : undefined,
      },
      {
        issue: 15,
        figure: '9. many kernels',
        target: "gateway CPU at most 1/3 of Jupyter Server's",
        measured: !judged ? broke : jsCpu === undefined ? 'not measured (Jupyter Server missing)' : `${pct(cpu(t))} vs ${pct(jsCpu)} of a core (${formatNumber(ratio(cpu(t), jsCpu))}x)`,
        met: judged && cpu(t) !== undefined && jsCpu !== undefined ? cpu(t)! <= jsCpu / 3 : undefined,
      },
    ];
    ctx.targets.push(...targets);
  }
  return { id: 'many_kernels', title, table, notes, data };
}
