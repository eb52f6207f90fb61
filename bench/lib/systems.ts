// The three systems under test behind one interface, each started and stopped by the bench:
// - GatewaySystem: this project's `node bin/kernel-gateway.js` (jupyter-websocket personality);
// - JupyterServerSystem: Debian's Jupyter Server (installed with apt-get when missing);
// - DirectSystem: ipykernels launched in this process and driven over ZeroMQ (the limit).
// Servers run in their own process group with their logs in a file (a pipe nobody reads would
// block them); every kernel's connection file lives under the bench's temporary root, which is
// how leftovers are found and killed when a system stops.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelSpecManager } from '../../src/kernels/kernelspecs.js';
import { RunningKernel } from '../../src/kernels/running-kernel.js';
import type { Logger } from '../../src/kernels/logger.js';
import { DirectKernelClient, WsKernelClient, type ClientFormat, type KernelClient } from './clients.js';
import { freePort, kernelPid, killGroup, killLeftovers, processRunning, sleep, waitFor } from './procs.js';

/** 'baseline': this gateway built from another git revision (`--baseline=REV`). */
export type SystemKey = 'gateway' | 'baseline' | 'jupyter' | 'direct';

export interface KernelHandle {
  id: string;
  /** The kernel's process, found after start (outside any timed span). */
  pid?: number;
  direct?: RunningKernel;
}

export interface SystemUnderTest {
  readonly key: SystemKey;
  readonly label: string;
  version: string;
  /** The server process whose CPU and memory are reported; undefined for the direct limit. */
  readonly serverPid: number | undefined;
  /** Websocket formats (or zmq) this system can be driven with. */
  readonly formats: ClientFormat[];
  start(): Promise<void>;
  /** Stops the system and kills anything of it left; returns the pids that had to be killed. */
  stop(): Promise<number[]>;
  startKernel(): Promise<KernelHandle>;
  /**
   * startKernel with retries, for set-up (not for timed starts). Kernels sometimes fail to
   * start when many start at once: ipykernel cannot bind a port it was given ("Address already
   * in use", it exits, or its heartbeat thread dies and it never answers).
   */
  startKernelRetrying(): Promise<KernelHandle>;
  /** How many kernel starts startKernelRetrying had to repeat, with the last reason. */
  readonly retries: { count: number; last: string };
  connect(k: KernelHandle, format: ClientFormat): Promise<KernelClient>;
  /** Asks for the kernel's shutdown and resolves once its process is gone. */
  shutdownKernel(k: KernelHandle): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GATEWAY_BIN = join(ROOT, 'bin', 'kernel-gateway.js');

/** KG_BENCH_GATEWAY_NODE_ARGS: node options for the gateways' processes (this one, a
 *  --baseline build and figure variants alike, each writing its own file by pid), e.g. a
 *  profile (`--cpu-prof --cpu-prof-dir=/tmp/prof`, `--heap-prof`), split on spaces. */
function gatewayNodeArgs(): string[] {
  return (process.env.KG_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/** Environment shared by every system's kernels: a private IPython dir, no debugger chatter. */
export function kernelBaseEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IPYTHONDIR: join(root, 'ipython'), PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('KG_')) delete env[k];
  return env;
}

function tail(file: string, n = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

async function withRetries(s: { retries: { count: number; last: string } }, start: () => Promise<KernelHandle>, attempts = 3): Promise<KernelHandle> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts) throw err;
      s.retries.count++;
      s.retries.last = (err as Error).message.split('\n')[0]!;
    }
  }
}

/** REST + websocket plumbing common to the two HTTP servers. */
abstract class HttpServerSystem implements SystemUnderTest {
  abstract readonly key: SystemKey;
  abstract readonly label: string;
  abstract readonly formats: ClientFormat[];
  version = '?';
  readonly retries = { count: 0, last: '' };
  protected proc?: ChildProcess;
  protected port = 0;
  protected headers: Record<string, string> = {};
  protected readonly dir: string;
  protected readonly logFile: string;

  constructor(
    protected readonly root: string,
    name: string,
  ) {
    this.dir = join(root, name);
    mkdirSync(join(this.dir, 'runtime'), { recursive: true });
    this.logFile = join(this.dir, 'server.log');
  }

  get serverPid(): number | undefined {
    return this.proc?.pid;
  }

  protected get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected abstract command(port: number): { cmd: string; args: string[]; env: NodeJS.ProcessEnv };

  async start(): Promise<void> {
    this.port = await freePort();
    await this.launch();
  }

  /** Spawns the server on this.port and waits until it answers /api. */
  protected async launch(): Promise<void> {
    const { cmd, args, env } = this.command(this.port);
    const log = openSync(this.logFile, 'a');
    this.proc = spawn(cmd, args, { env, detached: true, stdio: ['ignore', log, log], cwd: this.dir });
    closeSync(log);
    const proc = this.proc;
    let spawnError: Error | undefined;
    proc.once('error', (err) => (spawnError = err));
    const ready = await waitFor(
      async () => {
        if (spawnError || proc.exitCode !== null || proc.signalCode !== null) return true;
        try {
          const res = await fetch(`${this.base}/api`, { headers: this.headers });
          if (!res.ok) return false;
          const body = (await res.json()) as { version?: string };
          this.version = String(body.version ?? '?');
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      100,
    );
    if (spawnError || proc.exitCode !== null || proc.signalCode !== null || !ready) {
      await this.stop();
      throw new Error(`${this.label} did not start${spawnError ? `: ${spawnError.message}` : ''}; log tail:\n${tail(this.logFile)}`);
    }
  }

  async stop(): Promise<number[]> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const ok = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!ok) {
        killGroup(proc.pid!, 'SIGKILL');
        await exited;
      }
    }
    if (proc?.pid) killGroup(proc.pid, 'SIGKILL'); // anything left in its group
    // Kernels run in groups of their own: find them by their connection files under our root.
    const left = killLeftovers(this.dir);
    if (left.length) await waitFor(() => left.every((p) => !processRunning(p)), 5000);
    return left;
  }

  async startKernel(kernelspec = 'python3'): Promise<KernelHandle> {
    const res = await fetch(`${this.base}/api/kernels`, {
      method: 'POST',
      headers: { ...this.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: kernelspec }),
    });
    const body = (await res.json()) as { id?: string; message?: string };
    if (!res.ok || typeof body.id !== 'string') throw new Error(`${this.label}: POST /api/kernels answered ${res.status} ${JSON.stringify(body)}`);
    return { id: body.id };
  }

  startKernelRetrying(): Promise<KernelHandle> {
    return withRetries(this, () => this.startKernel());
  }

  connect(k: KernelHandle, format: ClientFormat): Promise<KernelClient> {
    if (format === 'zmq') throw new Error(`${this.label} is not driven over ZeroMQ`);
    return WsKernelClient.connect({ wsBase: `ws://127.0.0.1:${this.port}`, kernelId: k.id, format, headers: this.headers });
  }

  /** DELETE /api/kernels/{id}; resolves when the server answered (not when the kernel is gone). */
  async deleteKernel(id: string): Promise<void> {
    const res = await fetch(`${this.base}/api/kernels/${encodeURIComponent(id)}`, { method: 'DELETE', headers: this.headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${this.label}: DELETE /api/kernels/${id} answered ${res.status}`);
  }

  async shutdownKernel(k: KernelHandle): Promise<void> {
    k.pid ??= kernelPid(k.id);
    await this.deleteKernel(k.id);
    const pid = k.pid;
    if (pid !== undefined && !(await waitFor(() => !processRunning(pid), 30_000, 2))) {
      throw new Error(`${this.label}: kernel ${k.id} (pid ${pid}) still runs 30 s after DELETE`);
    }
  }

  logTail(): string {
    return tail(this.logFile);
  }
}

export class GatewaySystem extends HttpServerSystem {
  readonly key: 'gateway' | 'baseline';
  readonly label: string;
  readonly formats: ClientFormat[] = ['json', 'v1'];
  private readonly bin: string;
  private readonly extraArgs: string[];
  private readonly extraEnv: Record<string, string>;

  /** Without `baseline`: this checkout; with it, the build of another revision (bench/lib/baseline.ts).
   *  `variant`: another instance of this checkout, in its own directory, with extra options
   *  (and environment, e.g. a JUPYTER_PATH with kernelspecs of its own). */
  constructor(root: string, baseline?: { label: string; bin: string }, variant?: { name: string; label: string; args: string[]; env?: Record<string, string> }) {
    super(root, baseline ? 'baseline' : (variant?.name ?? 'gateway'));
    this.key = baseline ? 'baseline' : 'gateway';
    this.label = baseline ? `kernel-gateway @${baseline.label}` : (variant?.label ?? 'kernel-gateway (this)');
    this.bin = baseline?.bin ?? GATEWAY_BIN;
    this.extraArgs = variant?.args ?? [];
    this.extraEnv = variant?.env ?? {};
  }

  protected command(port: number): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
    const env = { ...kernelBaseEnv(this.root), JUPYTER_RUNTIME_DIR: join(this.dir, 'runtime'), ...this.extraEnv };
    return { cmd: process.execPath, args: [...gatewayNodeArgs(), this.bin, `--port=${port}`, '--ip=127.0.0.1', '--port_retries=0', ...this.extraArgs], env };
  }

  /** The operator's status document (/api/gateway/status). */
  async status(): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.base}/api/gateway/status`, { headers: this.headers });
    if (!res.ok) throw new Error(`${this.label}: GET /api/gateway/status answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }
}

const importable = (module: string): boolean => spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

/**
 * Installs what the bench drives from Debian when it is missing, with apt-get (root only):
 * python3-ipykernel (the kernel, with its /usr/share/jupyter/kernels/python3 spec) and
 * python3-jupyter-server. Returns, per package, why it is still missing.
 */
export function ensureDebianPackages(log: (m: string) => void): { ipykernel?: string; jupyterServer?: string } {
  const wanted: [string, string, () => boolean][] = [
    ['python3-ipykernel', 'ipykernel', () => importable('ipykernel') && existsSync('/usr/share/jupyter/kernels/python3/kernel.json')],
    ['python3-jupyter-server', 'jupyter_server', () => importable('jupyter_server')],
  ];
  const missing = wanted.filter(([, , ok]) => !ok());
  if (missing.length && process.getuid?.() === 0) {
    const names = missing.map(([pkg]) => pkg);
    log(`[bench] installing ${names.join(' ')} with apt-get (once)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): number | null => spawnSync('apt-get', ['install', '-y', '-qq', ...names], { stdio: ['ignore', 'ignore', 'inherit'], env }).status;
    if (install() !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
      install();
    }
  }
  const why = (pkg: string, module: string, ok: () => boolean): string | undefined =>
    ok() ? undefined : process.getuid?.() === 0 ? `apt-get install ${pkg} did not make \`import ${module}\` work` : `${pkg} is not installed and the bench is not root (apt-get install ${pkg})`;
  return { ipykernel: why(...wanted[0]!), jupyterServer: why(...wanted[1]!) };
}

export class JupyterServerSystem extends HttpServerSystem {
  readonly key = 'jupyter' as const;
  readonly label = 'Jupyter Server';
  // v1 is offered too: Debian's 1.23 does speak it (select_subprotocol in zmqhandlers.py); a
  // server that answers in JSON instead is reported as not offering it.
  readonly formats: ClientFormat[] = ['json', 'v1'];
  private readonly token = randomBytes(16).toString('hex');

  /** `name`: its directory under root, for a second instance (figure 9 starts its own). */
  constructor(root: string, name = 'jupyter') {
    super(root, name);
    this.headers = { Authorization: `token ${this.token}` };
    mkdirSync(join(this.dir, 'notebooks'), { recursive: true });
  }

  protected command(port: number): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
    const env: NodeJS.ProcessEnv = {
      ...kernelBaseEnv(this.root),
      JUPYTER_RUNTIME_DIR: join(this.dir, 'runtime'),
      JUPYTER_CONFIG_DIR: join(this.dir, 'config'),
      JUPYTER_DATA_DIR: join(this.dir, 'data'),
    };
    const args = [
      '-m',
      'jupyter_server',
      `--ServerApp.token=${this.token}`,
      `--port=${port}`,
      '--ServerApp.port_retries=0',
      '--no-browser',
      '--ServerApp.ip=127.0.0.1',
      '--allow-root',
      `--ServerApp.root_dir=${join(this.dir, 'notebooks')}`,
      // Its defaults (1 MB/s, 1000 msg/s) would drop the streaming figure's output.
      '--ServerApp.iopub_data_rate_limit=0',
      '--ServerApp.iopub_msg_rate_limit=0',
    ];
    return { cmd: '/usr/bin/python3', args, env };
  }
}

const quietLog: Logger = { debug: () => undefined, info: () => undefined, warn: (m) => console.error(`[direct] ${m}`), error: (m) => console.error(`[direct] ${m}`) };

export class DirectSystem implements SystemUnderTest {
  readonly key = 'direct' as const;
  readonly label = 'direct ZeroMQ (limit)';
  readonly serverPid = undefined;
  readonly formats: ClientFormat[] = ['zmq'];
  version = 'ipykernel';
  readonly retries = { count: 0, last: '' };
  private readonly kernels = new Set<RunningKernel>();
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'direct');
    mkdirSync(join(this.dir, 'runtime'), { recursive: true });
  }

  async start(): Promise<void> {
    const v = spawnSync('/usr/bin/python3', ['-c', 'import ipykernel; print(ipykernel.__version__)'], { encoding: 'utf8' });
    this.version = v.status === 0 ? `ipykernel ${v.stdout.trim()}` : 'ipykernel ?';
  }

  startKernelRetrying(): Promise<KernelHandle> {
    return withRetries(this, () => this.startKernel());
  }

  async startKernel(): Promise<KernelHandle> {
    const found = new KernelSpecManager(undefined, () => undefined).get('python3');
    if (!found) throw new Error('no python3 kernelspec (apt-get install python3-ipykernel)');
    // The servers' kernels write their banner and logs into the server's log file (inherited);
    // RunningKernel inherits ours, so the same kernel argv runs under `sh -c exec` with its
    // output sent to a file: same process (exec keeps the pid), same work, a quiet terminal.
    const log = join(this.dir, 'kernels.log').replaceAll("'", "'\\''");
    const spec = { ...found, spec: { ...found.spec, argv: ['/bin/sh', '-c', `exec "$@" >>'${log}' 2>&1`, 'sh', ...found.spec.argv] } };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(kernelBaseEnv(join(this.dir, '..')))) if (v !== undefined) env[k] = v;
    env.JUPYTER_RUNTIME_DIR = join(this.dir, 'runtime');
    const kernel = await RunningKernel.launch({ spec, env, runtimeDir: join(this.dir, 'runtime'), launchTimeoutMs: 15_000, log: quietLog });
    this.kernels.add(kernel);
    return { id: kernel.id, pid: kernel.pid, direct: kernel };
  }

  async connect(k: KernelHandle): Promise<KernelClient> {
    if (!k.direct) throw new Error('not a direct kernel');
    return new DirectKernelClient(k.direct);
  }

  async shutdownKernel(k: KernelHandle): Promise<void> {
    const kernel = k.direct;
    if (!kernel) return;
    await kernel.shutdown();
    this.kernels.delete(kernel);
    const pid = k.pid;
    if (pid !== undefined) await waitFor(() => !processRunning(pid), 30_000, 2);
  }

  async stop(): Promise<number[]> {
    await Promise.all([...this.kernels].map((k) => k.shutdown(true)));
    this.kernels.clear();
    const left = killLeftovers(this.dir);
    if (left.length) await waitFor(() => left.every((p) => !processRunning(p)), 5000);
    return left;
  }
}
