// notebook-http throughput: starts the gateway in notebook-http mode on a loopback port (pools of
// 1 and 4 kernels), drives a small GET endpoint and a JSON-echo POST with a closed-loop load
// generator at concurrency 1, 8 and 64, and reports requests/s, p50/p99 latency, and the CPU of
// the gateway, the kernels and the load generator itself (so a saturated client would show).
//
//   node dist/bench/notebook-http.js [--quick]
//
// runNotebookHttpBench() is also what the bench suite (bench/run.ts) calls for its figure.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GATEWAY_BIN = fileURLToPath(new URL('../../bin/kernel-gateway.js', import.meta.url));

export interface NotebookHttpBenchOptions {
  quick: boolean;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export interface CaseResult {
  prespawn: number;
  endpoint: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Share of one core over the measured span. */
  gateway_cpu: number;
  kernels_cpu: number;
  client_cpu: number;
}

export interface NotebookHttpBenchReport {
  title: string;
  table: string[][];
  notes: string[];
  data: { quick: boolean; cases: CaseResult[] };
}

const NOTEBOOK_CELLS = [
  'import json',
  "# GET /hello\nprint('hello world')",
  "# POST /echo\nreq = json.loads(REQUEST)\nprint(json.dumps(req['body']))",
];
const ECHO_BODY = JSON.stringify({ user: 'ada', items: [1, 2, 3], note: 'a small JSON document, echoed back' });

function writeNotebook(dir: string): string {
  const path = join(dir, 'bench_api.ipynb');
  const cells = NOTEBOOK_CELLS.map((source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source }));
  const nb = { cells, metadata: { kernelspec: { name: 'python3', language: 'python', display_name: 'Python 3' }, language_info: { name: 'python' } }, nbformat: 4, nbformat_minor: 5 };
  writeFileSync(path, JSON.stringify(nb));
  return path;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (undefined once it is gone). */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Processes whose command line mentions `needle` (the kernels: their connection files live under our temp dir). */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

interface RunningGateway {
  proc: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startGateway(notebook: string, prespawn: number, root: string): Promise<RunningGateway> {
  const runtime = join(root, `runtime-${prespawn}`);
  const env: NodeJS.ProcessEnv = { ...process.env, JUPYTER_RUNTIME_DIR: runtime, IPYTHONDIR: join(root, 'ipython'), PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('KG_')) delete env[k];
  const proc = spawn(
    process.execPath,
    [GATEWAY_BIN, '--ip=127.0.0.1', '--port=0', '--KernelGatewayApp.api=notebook-http', `--KernelGatewayApp.seed_uri=${notebook}`, `--KernelGatewayApp.prespawn_count=${prespawn}`],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /Jupyter Kernel Gateway \S+ at https?:\/\/[^:]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before listening:\n${output}`));
    });
  });
  // Keep draining the access log so the gateway never blocks on a full pipe.
  proc.stdout!.removeAllListeners('data');
  proc.stderr!.removeAllListeners('data');
  proc.stdout!.resume();
  proc.stderr!.resume();
  const exited = new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));
  return {
    proc,
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10_000);
      await exited;
      clearTimeout(killer);
      // Nothing may outlive the bench: any kernel still naming our runtime dir goes.
      for (const pid of pidsMentioning(runtime)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    },
  };
}

interface Target {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
  headers: Record<string, string>;
}

const TARGETS: Target[] = [
  { name: 'GET /hello', method: 'GET', path: '/hello', headers: {} },
  { name: 'POST /echo (JSON)', method: 'POST', path: '/echo', body: Buffer.from(ECHO_BODY), headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(ECHO_BODY)) } },
];

function once(agent: Agent, port: number, t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: t.method, path: t.path, headers: t.headers, agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(t.body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A closed loop: `concurrency` clients each send the next request as soon as the last one is answered. */
async function load(port: number, t: Target, concurrency: number, warmupMs: number, measureMs: number, pids: { gateway: number; kernels: number[] }): Promise<Omit<CaseResult, 'prespawn' | 'endpoint' | 'concurrency'>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const t0 = performance.now();
      let status = 0;
      try {
        status = await once(agent, port, t);
      } catch {
        status = 0;
      }
      if (!measuring || stopped) continue;
      if (status === 200) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = process.cpuUsage();
  const gw0 = cpuSecondsOf(pids.gateway) ?? 0;
  const k0 = pids.kernels.map((p) => cpuSecondsOf(p) ?? 0);
  const start = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, measureMs));
  stopped = true;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const gw1 = cpuSecondsOf(pids.gateway) ?? gw0;
  const kernelsCpu = pids.kernels.reduce((sum, p, i) => sum + ((cpuSecondsOf(p) ?? k0[i]!) - k0[i]!), 0);
  await Promise.all(workers);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    gateway_cpu: (gw1 - gw0) / seconds,
    kernels_cpu: kernelsCpu / seconds,
    client_cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const share = (v: number): string => `${Math.round(v * 100)}%`;

export async function runNotebookHttpBench(opts: NotebookHttpBenchOptions): Promise<NotebookHttpBenchReport> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const measureMs = opts.quick ? 1500 : 5000;
  const warmupMs = opts.quick ? 300 : 1000;
  const root = mkdtempSync(join(tmpdir(), 'kg-nbhttp-bench-'));
  const notebook = writeNotebook(root);
  const cases: CaseResult[] = [];
  let gateway: RunningGateway | undefined;
  const onSignal = (): void => {
    void gateway?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    for (const prespawn of [1, 4]) {
      log(`[notebook-http bench] starting the gateway with prespawn_count=${prespawn}`);
      gateway = await startGateway(notebook, prespawn, root);
      const pids = { gateway: gateway.proc.pid!, kernels: pidsMentioning(join(root, `runtime-${prespawn}`)) };
      for (const target of TARGETS) {
        for (const concurrency of [1, 8, 64]) {
          const r = await load(gateway.port, target, concurrency, warmupMs, measureMs, pids);
          const row: CaseResult = { prespawn, endpoint: target.name, concurrency, ...r };
          cases.push(row);
          log(`[notebook-http bench] pool ${prespawn}, ${target.name}, c=${concurrency}: ${fixed(r.rps, 0)} req/s, p50 ${fixed(r.p50_ms, 2)} ms, p99 ${fixed(r.p99_ms, 2)} ms, gateway CPU ${share(r.gateway_cpu)}, kernels ${share(r.kernels_cpu)}, client ${share(r.client_cpu)}${r.errors ? `, ${r.errors} errors` : ''}`);
        }
      }
      await gateway.stop();
      gateway = undefined;
    }
  } finally {
    process.off('SIGINT', onSignal);
    await gateway?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const table = [
    ['pool', 'endpoint', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'gateway CPU', 'kernels CPU', 'client CPU', 'errors'],
    ...cases.map((c) => [String(c.prespawn), c.endpoint, String(c.concurrency), fixed(c.rps, 0), fixed(c.p50_ms, 2), fixed(c.p99_ms, 2), share(c.gateway_cpu), share(c.kernels_cpu), share(c.client_cpu), String(c.errors)]),
  ];
  const maxClient = Math.max(...cases.map((c) => c.client_cpu));
  const notes = [
    `Closed loop over keep-alive connections, ${measureMs / 1000} s measured per case after ${warmupMs / 1000} s of warm-up; one ipykernel per pool seat; CPU as a share of one core; kernels CPU is all pool kernels together.`,
    `The load generator used at most ${share(maxClient)} of a core${maxClient > 0.7 ? ': it may be what limits the fastest cases' : ', so it is not the bottleneck'}.`,
    'Each request is one execute_request on a kernel (REQUEST set on the annotation line), so a pool of N kernels serves at most N requests at a time; the kernels run on the same 2 cores as the gateway and the client.',
  ];
  return { title: 'Figure 6 — notebook-http requests/s', table, notes, data: { quick: opts.quick, cases } };
}

function render(table: string[][]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  runNotebookHttpBench({ quick }).then(
    (report) => {
      console.log(`${report.title}\n\n${render(report.table)}\n\n${report.notes.map((n) => `* ${n}`).join('\n')}`);
    },
    (err: Error) => {
      console.error(`notebook-http bench failed: ${err.stack ?? err.message}`);
      process.exitCode = 1;
    },
  );
}
