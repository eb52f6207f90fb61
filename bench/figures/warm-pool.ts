// Figure 7: the warm pool (issue 14). POST /api/kernels until the first kernel_info_reply over a
// new websocket, on a gateway with warm_pool python3=2 and on one without, one request every 2 s
// to each (the pool refills in between), the two alternating; then, the pool full, 10 requests
// at once: how many were served warm. Runs on gateways of its own after the other figures, so it
// has the machine; a start counts as warm when its kernel id was one the pool had ready.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLeftovers, sleep, waitFor } from '../lib/procs.js';
import { formatNumber, pct, type FigureReport, type TargetCheck } from '../lib/report.js';
import { percentile, summarize } from '../lib/stats.js';
import { GatewaySystem, type KernelHandle } from '../lib/systems.js';

const POOL = 2;
const BURST = 10;
const PERIOD_MS = 2000;

interface PoolStatus {
  kernelspec: string;
  ready: { id: string }[];
  starting: number;
  hits: number;
  misses: number;
}

const elapsed = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

async function poolOf(s: GatewaySystem): Promise<PoolStatus> {
  const pools = (await s.status()).warm_pool as PoolStatus[];
  const p = pools.find((x) => x.kernelspec === 'python3');
  if (!p) throw new Error(`${s.label} has no python3 warm pool`);
  return p;
}

async function poolFull(s: GatewaySystem): Promise<void> {
  if (!(await waitFor(async () => ((p) => p.ready.length === POOL && p.starting === 0)(await poolOf(s)), 60_000, 50))) {
    throw new Error(`${s.label}: the pool did not fill to ${POOL} within 60 s`);
  }
}

/** POST /api/kernels, open the websocket, one kernel_info round trip: the time a client waits. */
async function timedStart(s: GatewaySystem): Promise<{ k: KernelHandle; ms: number }> {
  const t0 = process.hrtime.bigint();
  const k = await s.startKernel();
  const client = await s.connect(k, 'json');
  await client.kernelInfo();
  const ms = elapsed(t0);
  await client.close();
  return { k, ms };
}

export async function warmPoolFigure(opts: { quick: boolean; log: (m: string) => void; targets: TargetCheck[] }): Promise<FigureReport> {
  const title = `Figure 7 — warm pool: POST /api/kernels to the first kernel_info_reply (pool of ${POOL})`;
  const rounds = opts.quick ? 6 : 20;
  const root = mkdtempSync(join(tmpdir(), 'kg-bench-pool-'));
  const warm = new GatewaySystem(root, undefined, { name: 'gateway-pool', label: `kernel-gateway warm_pool=python3=${POOL}`, args: [`--KernelGatewayApp.warm_pool=python3=${POOL}`] });
  const cold = new GatewaySystem(root, undefined, { name: 'gateway-cold', label: 'kernel-gateway, no pool (cold)', args: [] });
  const samples = new Map<GatewaySystem, number[]>([
    [warm, []],
    [cold, []],
  ]);
  let steadyHits = 0;
  const notes: string[] = [];
  const burst = { hits: 0, ms: [] as number[], failures: 0 };
  try {
    await Promise.all([warm.start(), cold.start()]);
    await poolFull(warm);
    for (let r = 0; r < rounds; r++) {
      const roundStart = Date.now();
      // The two gateways take turns, first one then the other, 1 s apart: each sees one request every 2 s.
      for (const [i, s] of (r % 2 === 0 ? [warm, cold] : [cold, warm]).entries()) {
        await sleep(Math.max(0, roundStart + (i * PERIOD_MS) / 2 - Date.now()));
        const ready = s === warm ? new Set((await poolOf(warm)).ready.map((x) => x.id)) : undefined;
        const { k, ms } = await timedStart(s);
        samples.get(s)!.push(ms);
        if (ready?.has(k.id)) steadyHits++;
        await s.shutdownKernel(k);
      }
      await sleep(Math.max(0, roundStart + PERIOD_MS - Date.now()));
    }

    // Requests faster than the pool refills: 10 at once on a full pool.
    await poolFull(warm);
    const ready = new Set((await poolOf(warm)).ready.map((x) => x.id));
    const results = await Promise.allSettled(Array.from({ length: BURST }, () => timedStart(warm)));
    const started: KernelHandle[] = [];
    for (const res of results) {
      if (res.status === 'rejected') {
        burst.failures++;
        continue;
      }
      started.push(res.value.k);
      burst.ms.push(res.value.ms);
      if (ready.has(res.value.k.id)) burst.hits++;
    }
    await Promise.all(started.map((k) => warm.shutdownKernel(k)));
  } finally {
    for (const s of [warm, cold]) {
      const left = await s.stop().catch(() => [] as number[]);
      if (left.length) notes.push(`${s.label}: killed ${left.length} leftover process(es)`);
    }
    const stray = killLeftovers(root);
    if (stray.length) notes.push(`killed stray process(es) ${stray.join(', ')}`);
    rmSync(root, { recursive: true, force: true });
  }

  const w = summarize(samples.get(warm)!);
  const c = summarize(samples.get(cold)!);
  const table = [
    ['case', 'starts', 'p50 ms', 'p99 ms', 'max ms', 'served warm'],
    [`warm (pool of ${POOL}, one request / 2 s)`, String(samples.get(warm)!.length), formatNumber(w.p50), formatNumber(percentile(samples.get(warm)!, 99)), formatNumber(w.max), `${steadyHits}/${samples.get(warm)!.length}`],
    ['cold (no pool, one request / 2 s)', String(samples.get(cold)!.length), formatNumber(c.p50), formatNumber(percentile(samples.get(cold)!, 99)), formatNumber(c.max), '—'],
    [`burst: ${BURST} at once, pool of ${POOL}`, String(burst.ms.length), formatNumber(percentile(burst.ms, 50)), formatNumber(percentile(burst.ms, 99)), formatNumber(Math.max(...burst.ms)), `${burst.hits}/${BURST} (${pct(burst.hits / BURST)})`],
  ];
  notes.unshift(
    `${rounds} requests to each gateway, alternating, 1 s apart; each kernel is shut down (DELETE until its process is gone) before the next request. A start counts as served warm when its kernel id was ready in the pool (/api/gateway/status) just before the request. With ${rounds} samples, p99 is about the maximum.`,
    `Burst: the ${BURST} requests go out together on a full pool; the pool refills one kernel at a time on this machine, so the others start cold, competing for the CPU.`,
  );
  if (burst.failures) notes.push(`FAILED: ${burst.failures} of the burst's starts`);
  const warmP99 = percentile(samples.get(warm)!, 99);
  opts.targets.push({ figure: '7. warm pool', target: 'warm start p99 under 50 ms (issue 14)', measured: `${formatNumber(warmP99)} ms (cold p50 ${formatNumber(c.p50)} ms)`, met: Number.isFinite(warmP99) ? warmP99 < 50 : undefined });
  return {
    id: 'warm_pool',
    title,
    table,
    notes,
    data: { warm_ms: w, cold_ms: c, warm_samples: samples.get(warm), cold_samples: samples.get(cold), steady_hits: steadyHits, burst: { size: BURST, hits: burst.hits, ms: summarize(burst.ms), failures: burst.failures } },
  };
}
