// `npm run bench [-- --quick]`: starts this gateway, Debian's Jupyter Server and bare
// ipykernels (driven over ZeroMQ: the limit), measures them interleaved, prints one table per
// figure with every figure as a ratio against Jupyter Server and against the limit, writes
// bench/results/latest.json, and stops everything it started (checked by scanning /proc).
// Options: --quick (about 5 minutes), --only=1,2,... (figures), --out=FILE,
// --update-readme (rewrite bench/README.md's results section of this mode, quick or full),
// --baseline=REV (also measure this gateway as built from git revision REV, interleaved).
// KG_BENCH_FIG9=kernels,rounds,seconds sizes figure 9 down for development (e.g. 10,1,10).
// KG_BENCH_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the gateways' processes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lifecycleFigure } from './figures/lifecycle.js';
import { executeRttFigure } from './figures/execute-rtt.js';
import { streamingFigure } from './figures/streaming.js';
import { warmPoolFigure } from './figures/warm-pool.js';
import { provisionersFigure } from './figures/provisioners.js';
import { measureIdleRss, memoryAndConcurrencyFigures, type IdleRss } from './figures/memory-concurrency.js';
import { manyKernelsFigure } from './figures/many-kernels.js';
import { gatewayRestartFigure } from './figures/gateway-restart.js';
import { costModelReport } from './lib/cost-model.js';
import { killLeftovers, processRunning, waitFor } from './lib/procs.js';
import { pct, type BenchContext, type FigureReport, type TargetCheck } from './lib/report.js';
import { renderMarkdownTable, renderTable } from './lib/stats.js';
import { buildBaseline } from './lib/baseline.js';
import { DirectSystem, GatewaySystem, JupyterServerSystem, ensureDebianPackages, type SystemUnderTest } from './lib/systems.js';
import { openVariants } from './lib/variants.js';

const BENCH_SRC = fileURLToPath(new URL('../../bench/', import.meta.url));
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Args {
  quick: boolean;
  only: Set<number> | undefined;
  out: string;
  updateReadme: boolean;
  baseline: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: undefined, out: join(BENCH_SRC, 'results', 'latest.json'), updateReadme: false, baseline: undefined };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--update-readme') args.updateReadme = true;
    else if (a.startsWith('--only=')) args.only = new Set(a.slice(7).split(',').map(Number));
    else if (a.startsWith('--out=')) args.out = a.slice(6);
    else if (a.startsWith('--baseline=')) args.baseline = a.slice(11);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('npm run bench [-- --quick] [--only=1,2,3,4,5,6,7,8,9,10] [--out=FILE] [--update-readme] [--baseline=REV]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return args;
}

interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  node: string;
  python: string;
  ipykernel: string;
  load_at_start: number[];
}

function machine(): Machine {
  let cpu = '?';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '?';
  } catch {
    /* not Linux */
  }
  const py = spawnSync('/usr/bin/python3', ['-c', 'import sys, ipykernel; print(sys.version.split()[0], ipykernel.__version__)'], { encoding: 'utf8' });
  const [python = '?', ipykernel = '?'] = py.status === 0 ? py.stdout.trim().split(' ') : [];
  return { date: new Date().toISOString(), nproc: availableParallelism(), cpu, node: process.version, python, ipykernel, load_at_start: loadavg().map((x) => Math.round(x * 100) / 100) };
}

function renderFigure(f: FigureReport): string {
  return [`## ${f.title}`, renderTable(f.table), ...f.notes.map((n) => `  * ${n}`)].join('\n');
}

function targetsTable(targets: TargetCheck[]): string[][] {
  return [['figure', 'target', 'measured', 'verdict'], ...targets.map((t) => [t.figure, t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'MET' : 'MISSED'])];
}

/** Loads the notebook-http figure (bench/notebook-http.ts, written separately) if it exists. */
async function notebookHttpFigure(quick: boolean, log: (m: string) => void, targets: TargetCheck[]): Promise<FigureReport> {
  const title = 'Figure 6 — notebook-http requests/s';
  const file = join(HERE, 'notebook-http.js');
  if (!existsSync(file)) {
    return { id: 'notebook_http', title, table: [], notes: ['NOT MEASURED YET: bench/notebook-http.ts (runNotebookHttpBench) does not exist in this checkout; it is being written with the notebook-http personality.'], data: null };
  }
  const mod = (await import(pathToFileURL(file).href)) as { runNotebookHttpBench?: (o: { quick: boolean; log?: (m: string) => void }) => Promise<unknown> };
  if (typeof mod.runNotebookHttpBench !== 'function') {
    return { id: 'notebook_http', title, table: [], notes: ['NOT MEASURED: bench/notebook-http.ts exports no runNotebookHttpBench.'], data: null };
  }
  log('[bench] figure 6: notebook-http (bench/notebook-http.ts)');
  const result = await mod.runNotebookHttpBench({ quick, log });
  const r = (result ?? {}) as Partial<FigureReport> & { text?: string };
  const table = Array.isArray(r.table) ? (r.table as string[][]) : [];
  const notes = Array.isArray(r.notes) ? r.notes.map(String) : [];
  if (typeof r.text === 'string') notes.unshift(r.text);
  if (!table.length && !notes.length) notes.push(JSON.stringify(result));
  notebookHttpTargets(r.data, targets);
  return { id: 'notebook_http', title: typeof r.title === 'string' ? r.title : title, table, notes, data: r.data ?? result };
}

/** Issue 7's notebook-http targets (2x the original: 245 req/s at pool 1, 320 at pool 4, concurrency 8). */
function notebookHttpTargets(data: unknown, targets: TargetCheck[]): void {
  const cases = (data as { cases?: unknown } | undefined)?.cases;
  if (!Array.isArray(cases)) return;
  for (const [pool, want] of [
    [1, 245],
    [4, 320],
  ] as const) {
    const at = (cases as { prespawn?: number; concurrency?: number; rps?: number; endpoint?: string }[]).filter((c) => c.prespawn === pool && c.concurrency === 8 && typeof c.rps === 'number');
    if (!at.length) continue;
    const worst = at.reduce((a, b) => (b.rps! < a.rps! ? b : a));
    targets.push({
      figure: '6. notebook-http',
      target: `pool ${pool}, concurrency 8: at least ${want} requests/s`,
      measured: at.map((c) => `${c.endpoint} ${Math.round(c.rps!)}`).join(', '),
      met: worst.rps! >= want,
    });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const want = (n: number): boolean => !args.only || args.only.has(n);
  const started = Date.now();
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const m = machine();
  log(`[bench] ${args.quick ? 'quick' : 'full'} run on ${m.nproc} cores (${m.cpu}), load ${m.load_at_start.join(' ')}`);

  const root = mkdtempSync(join(tmpdir(), 'kg-bench-'));
  const notes: string[] = [];
  const all: SystemUnderTest[] = [];
  const ctx: BenchContext = { quick: args.quick, startedAt: started, systems: [], log, clientCpuMax: { value: 0, where: '' }, targets: [], cost: [], done: [] };
  let cleaning: Promise<string[]> | undefined;
  const cleanup = (): Promise<string[]> =>
    (cleaning ??= (async () => {
      const killed: string[] = [];
      for (const s of all) {
        const left = await s.stop().catch(() => [] as number[]);
        if (left.length) killed.push(`${s.label}: killed ${left.length} leftover process(es) ${left.join(', ')}`);
      }
      const stray = killLeftovers(root);
      if (stray.length) killed.push(`killed stray process(es) ${stray.join(', ')}`);
      await waitFor(() => stray.every((p) => !processRunning(p)), 5000);
      return killed;
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`[bench] ${sig}: stopping everything`);
      void cleanup().finally(() => {
        rmSync(root, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }

  const figures: FigureReport[] = [];
  // Progress goes to stderr in one line per step; the tables come once, in the report on stdout.
  const show = (f: FigureReport): void => void figures.push(f);
  try {
    const candidates: SystemUnderTest[] = [new GatewaySystem(root)];
    if (args.baseline) {
      try {
        candidates.push(new GatewaySystem(root, buildBaseline(REPO, args.baseline, root, log)));
      } catch (err) {
        notes.push(`baseline ${args.baseline} NOT MEASURED: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const missing = ensureDebianPackages(log);
    if (missing.ipykernel) notes.push(`ipykernel missing: ${missing.ipykernel}; no kernel can start, so every figure will fail.`);
    if (missing.jupyterServer) notes.push(`Jupyter Server NOT MEASURED: ${missing.jupyterServer}; ratios against it are shown as —.`);
    else candidates.push(new JupyterServerSystem(root));
    candidates.push(new DirectSystem(root));
    // Figures 6, 7 and 8 start gateways of their own: asked for alone, they need none of these.
    const needSystems = [1, 2, 3, 4, 5].some(want);
    for (const s of needSystems ? candidates : []) {
      all.push(s);
      try {
        await s.start();
        ctx.systems.push(s);
        log(`[bench] started ${s.label} ${s.version}${s.serverPid ? ` (pid ${s.serverPid})` : ''}`);
      } catch (err) {
        notes.push(`${s.label} NOT MEASURED: ${(err as Error).message.split('\n')[0]}`);
        log(`[bench] ${(err as Error).message}`);
      }
    }
    const runFigure = async (n: number, name: string, fn: () => Promise<FigureReport | FigureReport[]>): Promise<void> => {
      log(`[bench] figure ${n}: ${name}`);
      const t0 = Date.now();
      try {
        const out = await fn();
        for (const f of Array.isArray(out) ? out : [out]) show(f);
        if (n <= 5) ctx.done.push(...(n === 4 ? [4, 5] : [n]));
      } catch (err) {
        notes.push(`figure ${n} (${name}) FAILED: ${(err as Error).message}`);
        log(`[bench] figure ${n} failed: ${(err as Error).stack}`);
      }
      log(`[bench] figure ${n} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };

    // Idle RSS first: before any kernel has run in any server.
    const idle = want(5) ? await measureIdleRss(ctx) : new Map<SystemUnderTest, IdleRss>();
    if (want(1)) await runFigure(1, 'kernel start and shutdown', () => lifecycleFigure(ctx));
    // Figures 4 and 5 share their kernels, so asking for either runs both.
    if (want(4) || want(5)) await runFigure(4, 'memory per kernel and concurrency', () => memoryAndConcurrencyFigures(ctx, idle));
    if (want(2) || want(3)) {
      // Streaming last: it grows the servers' heaps, which would skew the other figures.
      const opened = await openVariants(ctx);
      try {
        if (want(2)) await runFigure(2, 'execute round trip', () => executeRttFigure(ctx, opened));
        if (want(3)) await runFigure(3, 'output streaming', () => streamingFigure(ctx, opened));
      } finally {
        await opened.close();
      }
    }
    // Figure 9 on servers of its own, started now (fresh) and stopped after it; under this root,
    // so the cleanup below (and Ctrl-C) covers its 100 kernels too.
    if (want(9)) {
      const fresh: SystemUnderTest[] = [new GatewaySystem(root, undefined, { name: 'fig9-gateway', label: 'kernel-gateway (this)', args: [] })];
      if (!missing.jupyterServer) fresh.push(new JupyterServerSystem(root, 'fig9-jupyter'));
      const up: SystemUnderTest[] = [];
      for (const s of fresh) {
        all.push(s);
        try {
          await s.start();
          up.push(s);
        } catch (err) {
          notes.push(`figure 9: ${s.label} NOT MEASURED: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      try {
        await runFigure(9, 'many kernels', () => manyKernelsFigure(ctx, up));
      } finally {
        for (const s of up) {
          const left = await s.stop().catch(() => [] as number[]);
          if (left.length) notes.push(`figure 9: ${s.label}: killed ${left.length} leftover process(es) ${left.join(', ')}`);
        }
      }
    }
  } finally {
    const killed = await cleanup();
    const left = killLeftovers(root);
    notes.push(
      killed.length || left.length
        ? `cleanup: ${[...killed, ...(left.length ? [`still running after cleanup: ${left.join(', ')}`] : [])].join('; ')}`
        : 'cleanup: every server and kernel the bench started is gone (checked in /proc).',
    );
    // KG_BENCH_KEEP_TMP=1 keeps the servers' and kernels' logs for a post-mortem.
    if (process.env.KG_BENCH_KEEP_TMP === '1') log(`[bench] kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
  // notebook-http starts its own gateway(s); ours are down by now, so it has the machine.
  if (want(6)) {
    const t0 = Date.now();
    try {
      show(await notebookHttpFigure(args.quick, log, ctx.targets));
    } catch (err) {
      notes.push(`figure 6 (notebook-http) FAILED: ${(err as Error).message}`);
    }
    log(`[bench] figure 6 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (want(7)) {
    const t0 = Date.now();
    log('[bench] figure 7: warm pool');
    try {
      show(await warmPoolFigure({ quick: args.quick, log, targets: ctx.targets }));
    } catch (err) {
      notes.push(`figure 7 (warm pool) FAILED: ${(err as Error).message}`);
    }
    log(`[bench] figure 7 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  // Figure 8 starts its own gateway (and sshd's), and uses the docker engine when there is one.
  if (want(8)) {
    const t0 = Date.now();
    log('[bench] figure 8: kernel start by provisioner');
    try {
      show(await provisionersFigure({ quick: args.quick, log }));
    } catch (err) {
      notes.push(`figure 8 (kernel start by provisioner) FAILED: ${(err as Error).message}`);
    }
    log(`[bench] figure 8 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  // Figure 10 restarts gateways of its own, with and without availability_mode.
  if (want(10)) {
    const t0 = Date.now();
    log('[bench] figure 10: gateway restart');
    try {
      show(await gatewayRestartFigure({ quick: args.quick, log }));
    } catch (err) {
      notes.push(`figure 10 (gateway restart) FAILED: ${(err as Error).message}`);
    }
    log(`[bench] figure 10 took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  for (const s of ctx.systems) {
    if (s.retries.count) notes.push(`${s.label}: ${s.retries.count} kernel start(s) failed during set-up and were retried (last: ${s.retries.last}).`);
  }
  const cpu = ctx.clientCpuMax;
  notes.unshift(
    `measuring client: at most ${pct(cpu.value)} of one core in any measured phase (${cpu.where || 'none'}); ${cpu.value < 0.7 ? 'not the bottleneck' : 'WARNING: the client may limit some figures'} (${m.nproc} cores shared by client, server and kernels).`,
  );
  const seconds = (Date.now() - started) / 1000;
  const versions = [...new Set([...ctx.systems, ...all].map((s) => `${s.label} ${s.version}`))].join('; ');
  const header = `kernel-gateway bench (${args.quick ? 'quick' : 'full'}) ${m.date.slice(0, 16).replace('T', ' ')} UTC, ${m.nproc} cores, ${m.cpu}, node ${m.node}, python ${m.python}, ipykernel ${m.ipykernel}; ${versions}; load average at start ${m.load_at_start[0]}; took ${seconds.toFixed(0)} s`;
  const cost = costModelReport(ctx.cost);
  const issue7 = ctx.targets.filter((t) => (t.issue ?? 7) === 7);
  const issue15 = [...ctx.targets.filter((t) => t.issue === 15)];
  if (want(6)) {
    issue15.push({ issue: 15, figure: '6. notebook-http', target: 'at least 3x the original at pool 1 and pool 4', measured: 'not judged: figure 6 does not measure the original kernel_gateway', met: undefined });
  }
  const text = [
    `# ${header}`,
    'Ratios: "vs JS" = this row / Jupyter Server (JSON websocket); "vs limit" = this row / the kernel driven directly over ZeroMQ. For times lower is better, for rates higher is better.',
    ...figures.map(renderFigure),
    renderFigure(cost),
    ...(issue7.length ? ['## Targets (issue 7)', renderTable(targetsTable(issue7))] : []),
    ...(issue15.length ? ['## Targets (issue 15)', renderTable(targetsTable(issue15))] : []),
    '## Notes',
    ...notes.map((n) => `  * ${n}`),
  ].join('\n\n');
  process.stdout.write(`\n${text}\n`);

  const json = { machine: m, quick: args.quick, seconds, systems: ctx.systems.map((s) => ({ key: s.key, label: s.label, version: s.version })), figures: Object.fromEntries([...figures, cost].map((f) => [f.id, { title: f.title, table: f.table, notes: f.notes, data: f.data }])), targets: [...issue7, ...issue15], notes };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(json, null, 2)}\n`);
  log(`[bench] wrote ${args.out}`);

  if (args.updateReadme) {
    const md = [
      `Run: \`npm run bench${args.quick ? ' -- --quick' : ''}\`, ${header}.`,
      ...[...figures, cost].map((f) => [`#### ${f.title}`, f.table.length ? renderMarkdownTable(f.table) : '', ...f.notes.map((n) => `- ${n}`)].filter(Boolean).join('\n\n')),
      ...(issue7.length ? ['#### Targets (issue 7)', renderMarkdownTable(targetsTable(issue7))] : []),
      ...(issue15.length ? ['#### Targets (issue 15)', renderMarkdownTable(targetsTable(issue15))] : []),
      '#### Notes',
      notes.map((n) => `- ${n}`).join('\n'),
    ].join('\n\n');
    const readme = join(BENCH_SRC, 'README.md');
    const mode = args.quick ? 'quick' : 'full';
    const start = `<!-- results:${mode}:start -->`;
    const end = `<!-- results:${mode}:end -->`;
    const current = readFileSync(readme, 'utf8');
    const a = current.indexOf(start);
    const b = current.indexOf(end);
    if (a < 0 || b < a) throw new Error(`${readme} has no ${start} ... ${end} section`);
    writeFileSync(readme, `${current.slice(0, a + start.length)}\n${md}\n${current.slice(b)}`);
    log(`[bench] updated ${readme}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[bench] ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
