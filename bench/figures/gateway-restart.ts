// Figure 10: a gateway restart as its clients see it (issue 17). N kernels, one websocket
// client each that asks kernel_info every 20 ms; the gateway gets SIGTERM and a new one starts
// on the same port. With availability_mode=standalone the clients reconnect to the same kernels
// (their state kept); without a mode (today's behaviour, the original's too) the kernels ended
// with the gateway, so each client has to start a new kernel. Measured: the time from SIGTERM
// to the new gateway's re-adoption (its own log line), to every kernel answering again, and the
// gap each client saw between its last reply before and its first reply after.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WsKernelClient } from '../lib/clients.js';
import { killLeftovers, sleep } from '../lib/procs.js';
import { formatNumber, type FigureReport } from '../lib/report.js';
import { percentile } from '../lib/stats.js';
import { GatewaySystem, type KernelHandle } from '../lib/systems.js';

const PROBE_MS = 20;
const RECONNECT_MS = 10;
const GIVE_UP_MS = 120_000;

/** A gateway that can be restarted on its port, leaving its kernels to the next process. */
class RestartableGateway extends GatewaySystem {
  /** Sends `signal`, waits for the exit, starts again on the same port; the stop's duration. */
  async restart(signal: NodeJS.Signals): Promise<number> {
    const proc = this.proc!;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const t0 = performance.now();
    proc.kill(signal);
    await exited;
    const stopMs = performance.now() - t0;
    await this.launch();
    return stopMs;
  }

  /** The last adoption line's duration, from the gateway's log. */
  adoptionMs(): number | undefined {
    const all = [...readFileSync(this.logFile, 'utf8').matchAll(/re-adopted (\d+) kernel\(s\) from \S+ in (\d+) ms/g)];
    const last = all.at(-1);
    return last ? Number(last[2]) : undefined;
  }

  wsBase(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
}

/** One client of one kernel, asking kernel_info every PROBE_MS, reconnecting when it is cut. */
class Probe {
  lastReply = 0;
  /** The first reply after the cut, and the gap before it. */
  gapMs?: number;
  answeredAt?: number;
  kernel: KernelHandle;
  private client?: WsKernelClient;
  private stopped = false;
  private cutAt?: number;

  constructor(
    private readonly gw: RestartableGateway,
    kernel: KernelHandle,
    /** Whether the same kernel is there after the restart (else a new one is started). */
    private readonly sameKernel: boolean,
  ) {
    this.kernel = kernel;
  }

  async open(): Promise<void> {
    this.client = await WsKernelClient.connect({ wsBase: this.gw.wsBase(), kernelId: this.kernel.id, format: 'json' });
    await this.client.kernelInfo();
    this.lastReply = performance.now();
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.client!.kernelInfo(10_000);
        const now = performance.now();
        if (this.cutAt !== undefined && this.gapMs === undefined) {
          this.gapMs = now - this.lastReply;
          this.answeredAt = now;
        }
        this.lastReply = now;
        await sleep(PROBE_MS);
      } catch {
        if (this.stopped) return;
        this.cutAt ??= performance.now();
        await this.reconnect();
      }
    }
  }

  private async reconnect(): Promise<void> {
    const deadline = performance.now() + GIVE_UP_MS;
    while (!this.stopped && performance.now() < deadline) {
      try {
        if (!this.sameKernel && this.gapMs === undefined) this.kernel = await this.gw.startKernel();
        this.client = await WsKernelClient.connect({ wsBase: this.gw.wsBase(), kernelId: this.kernel.id, format: 'json' });
        return;
      } catch {
        await sleep(RECONNECT_MS);
      }
    }
  }

  /** Whether the kernel still holds what `define` set (state kept across the restart). */
  async holds(check: string): Promise<boolean> {
    const outcome = await this.client!.execute(check, 30_000);
    return outcome.errors === 0;
  }

  async define(code: string): Promise<void> {
    await this.client!.execute(code, 30_000);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.client?.close().catch(() => undefined);
  }
}

interface Case {
  mode: 'standalone' | 'none';
  kernels: number;
  stopMs: number;
  adoptionMs?: number;
  /** SIGTERM to the last client's first reply after it. */
  allBackMs: number;
  gaps: number[];
  stateKept: number;
}

async function measure(root: string, mode: Case['mode'], n: number, round: number): Promise<Case> {
  const dir = join(root, `${mode}-${n}-${round}`);
  const args = mode === 'none' ? [] : ['--KernelGatewayApp.availability_mode=standalone', `--KernelGatewayApp.persistence_root=${join(dir, 'store')}`];
  const gw = new RestartableGateway(dir, undefined, { name: 'gateway', label: `kernel-gateway ${mode}`, args });
  const probes: Probe[] = [];
  try {
    await gw.start();
    const kernels = await Promise.all(Array.from({ length: n }, () => gw.startKernelRetrying()));
    for (const k of kernels) probes.push(new Probe(gw, k, mode !== 'none'));
    await Promise.all(probes.map((p) => p.open()));
    await probes[0]!.define('x = 41');
    await sleep(200);
    const t0 = performance.now();
    const stopMs = await gw.restart('SIGTERM');
    const deadline = Date.now() + GIVE_UP_MS;
    while (probes.some((p) => p.gapMs === undefined) && Date.now() < deadline) await sleep(5);
    if (probes.some((p) => p.gapMs === undefined)) throw new Error(`${mode}, ${n} kernels: a client got no answer within ${GIVE_UP_MS / 1000} s of the restart`);
    const allBackMs = Math.max(...probes.map((p) => p.answeredAt!)) - t0;
    const stateKept = (await probes[0]!.holds('assert x == 41')) ? 1 : 0;
    const result: Case = { mode, kernels: n, stopMs, adoptionMs: mode === 'none' ? undefined : gw.adoptionMs(), allBackMs, gaps: probes.map((p) => p.gapMs!), stateKept };
    await Promise.all(probes.map((p) => p.close()));
    await Promise.all(probes.map((p) => gw.shutdownKernel(p.kernel).catch(() => undefined)));
    return result;
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await gw.stop().catch(() => []);
    killLeftovers(dir);
  }
}

export async function gatewayRestartFigure(opts: { quick: boolean; log: (m: string) => void }): Promise<FigureReport> {
  const title = 'Figure 10 — gateway restart (SIGTERM, then a new gateway on the same port): what clients see';
  const rounds = opts.quick ? 1 : 2;
  const sizes = [1, 20];
  const root = mkdtempSync(join(tmpdir(), 'kg-bench-restart-'));
  const cases: Case[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of sizes) {
        for (const mode of r % 2 === 0 ? (['standalone', 'none'] as const) : (['none', 'standalone'] as const)) {
          opts.log(`[bench] figure 10: ${mode}, ${n} kernel(s), round ${r + 1}`);
          cases.push(await measure(root, mode, n, r));
        }
      }
    }
  } finally {
    killLeftovers(root);
    rmSync(root, { recursive: true, force: true });
  }
  const table = [['availability_mode', 'kernels', 'SIGTERM to exit ms', 're-adoption ms (log)', 'SIGTERM to all answering ms', 'client gap p50 ms', 'gap max ms', 'state kept']];
  for (const mode of ['standalone', 'none'] as const) {
    for (const n of sizes) {
      const at = cases.filter((c) => c.mode === mode && c.kernels === n);
      if (!at.length) continue;
      const med = (f: (c: Case) => number | undefined): number | undefined => {
        const v = at.map(f).filter((x): x is number => x !== undefined);
        return v.length ? percentile(v, 50) : undefined;
      };
      const gaps = at.flatMap((c) => c.gaps);
      table.push([
        mode === 'none' ? "'' (kernels end: clients start new ones)" : mode,
        String(n),
        formatNumber(med((c) => c.stopMs)),
        mode === 'none' ? '—' : formatNumber(med((c) => c.adoptionMs)),
        formatNumber(med((c) => c.allBackMs)),
        formatNumber(percentile(gaps, 50)),
        formatNumber(Math.max(...gaps)),
        `${at.reduce((a, c) => a + c.stateKept, 0)}/${at.length}`,
      ]);
    }
  }
  const notes = [
    `${rounds} round(s) per case, medians shown; the two modes alternate. Each client asks kernel_info every ${PROBE_MS} ms over its websocket and, once cut, reconnects every ${RECONNECT_MS} ms (the same kernel id with a mode set; a new kernel via POST without one).`,
    'The gap is the time between the last kernel_info_reply before the restart and the first one after it, per client. "state kept": a variable defined before the restart is still there after it.',
    'The new gateway is started as soon as the old one has exited; its start-up (node, the modules, the kernelspecs) is part of every number except the re-adoption, which is the gateway\'s own log line (records read, processes checked, each kernel\'s heartbeat and a signed kernel_info answered).',
  ];
  return { id: 'gateway_restart', title, table, notes, data: { cases } };
}
