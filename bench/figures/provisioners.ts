// Figure 8: kernel start by provisioner. One gateway (this checkout) with a kernelspec for each
// provisioner: a local process (python3), a Docker container (py_docker), a Swarm service
// (py_swarm) and an SSH host (py_distributed, sshd's on 127.0.0.2 and .3 started here). The
// engines are set up as the real-engine tests do (test/helpers/engines.ts: the kernel image built
// without a registry, the host system bound read-only, Enterprise Gateway's unmodified
// launchers). Start: POST /api/kernels until the first kernel_info_reply over a new websocket;
// shutdown: DELETE until the kernel is gone (no process mentions its id, and no container or
// service is labelled with it). Provisioners take turns round by round; each kernel is gone
// before the next start. An engine that is not there gives a row saying why, not a failure.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { buildKernelImage, DEBIAN_PYTHON, docker, dockerUnavailable, EG_DIR, EG_PYTHON_LAUNCHER, KERNEL_IMAGE, KERNEL_IMAGE_MOUNTS, launcherUnavailable, sshUnavailable, startSshHosts, swarmUnavailable, type SshHosts } from '../../test/helpers/engines.js';
import { killLeftovers, pidsWithCmdline, waitFor } from '../lib/procs.js';
import { formatNumber, type FigureReport } from '../lib/report.js';
import { roundOrder, summarize } from '../lib/stats.js';
import { GatewaySystem } from '../lib/systems.js';

type Engine = 'local' | 'docker' | 'swarm' | 'ssh';

interface Case {
  engine: Engine;
  provisioner: string;
  kernelspec: string;
  /** Why it is not measured (engine missing, warm-up failed), or undefined. */
  unavailable?: string;
  startMs: number[];
  deleteMs: number[];
  goneMs: number[];
  failures: string[];
  ids: string[];
  /** What was left of this provisioner's kernels after the figure, before the gateway stopped. */
  left: string[];
}

const GONE_TIMEOUT_MS = 60_000;
const EG_DOCKER_CLASS = 'enterprise_gateway.services.processproxies.docker_swarm';
const elapsed = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const firstLine = (err: unknown): string => (err as Error).message.split('\n')[0]!;

function writeKernelspec(data: string, name: string, spec: Record<string, unknown>): void {
  mkdirSync(join(data, 'kernels', name), { recursive: true });
  writeFileSync(join(data, 'kernels', name, 'kernel.json'), JSON.stringify(spec));
}

/** Enterprise Gateway's docker kernelspec (its argv is not run: the gateway starts the container). */
function containerSpec(name: string, className: string): Record<string, unknown> {
  const argv = ['python', '/usr/local/share/jupyter/kernels/python_docker/scripts/launch_docker.py', '--RemoteProcessProxy.kernel-id', '{kernel_id}', '--RemoteProcessProxy.port-range', '{port_range}', '--RemoteProcessProxy.response-address', '{response_address}', '--RemoteProcessProxy.public-key', '{public_key}'];
  const mounts = KERNEL_IMAGE_MOUNTS.map((m) => `${m.source}:${m.target}:ro`);
  return { display_name: name, language: 'python', argv, metadata: { process_proxy: { class_name: `${EG_DOCKER_CLASS}.${className}`, config: { image_name: KERNEL_IMAGE, network: 'host', mounts } } } };
}

/** Enterprise Gateway's python_distributed kernelspec with Debian's python and the launcher where they are here. */
function distributedSpec(): Record<string, unknown> {
  const spec = JSON.parse(readFileSync(join(EG_DIR, 'kernelspecs/python_distributed/kernel.json'), 'utf8')) as { argv: string[] };
  spec.argv[0] = DEBIAN_PYTHON;
  spec.argv[1] = EG_PYTHON_LAUNCHER;
  return spec;
}

/** What still exists of one kernel: its processes, and its containers and services by label. */
async function remainsOf(api: Dockerode | undefined, engine: Engine, id: string): Promise<string[]> {
  const found = pidsWithCmdline(id).map((p) => `pid ${p}`);
  if (api && (engine === 'docker' || engine === 'swarm')) {
    const filters = { label: [`kernel_id=${id}`] };
    found.push(...(await api.listContainers({ all: true, filters })).map((c) => `container ${c.Id.slice(0, 12)} (${c.State})`));
    if (engine === 'swarm') found.push(...(await api.listServices({ filters })).map((s) => `service ${s.Spec?.Name ?? s.ID}`));
  }
  return found;
}

export async function provisionersFigure(opts: { quick: boolean; log: (m: string) => void }): Promise<FigureReport> {
  const title = 'Figure 8 — kernel start by provisioner: POST /api/kernels to the first kernel_info_reply, and DELETE until gone';
  const rounds = opts.quick ? 5 : 10;
  const root = mkdtempSync(join(tmpdir(), 'kg-bench-prov-'));
  const data = join(root, 'data');
  const notes: string[] = [];
  const mk = (engine: Engine, provisioner: string, kernelspec: string): Case => ({ engine, provisioner, kernelspec, startMs: [], deleteMs: [], goneMs: [], failures: [], ids: [], left: [] });
  const cases = [mk('local', 'local-provisioner', 'python3'), mk('docker', 'docker-provisioner', 'py_docker'), mk('swarm', 'docker-swarm-provisioner', 'py_swarm'), mk('ssh', 'distributed-provisioner', 'py_distributed')];
  const [, dockerCase, swarmCase, sshCase] = cases as [Case, Case, Case, Case];

  const launcher = await launcherUnavailable();
  dockerCase.unavailable = (await dockerUnavailable()) ?? launcher;
  swarmCase.unavailable = (await swarmUnavailable()) ?? launcher;
  sshCase.unavailable = (await sshUnavailable()) ?? launcher;
  let api: Dockerode | undefined;
  let ssh: SshHosts | undefined;
  let gw: GatewaySystem | undefined;
  try {
    if (!dockerCase.unavailable || !swarmCase.unavailable) {
      try {
        await buildKernelImage();
        api = new Dockerode();
        writeKernelspec(data, 'py_docker', containerSpec('py_docker', 'DockerProcessProxy'));
        writeKernelspec(data, 'py_swarm', containerSpec('py_swarm', 'DockerSwarmProcessProxy'));
      } catch (err) {
        dockerCase.unavailable ??= `the kernel image could not be built: ${firstLine(err)}`;
        swarmCase.unavailable ??= dockerCase.unavailable;
      }
    }
    if (!sshCase.unavailable) {
      try {
        ssh = await startSshHosts(2);
        writeKernelspec(data, 'py_distributed', distributedSpec());
      } catch (err) {
        sshCase.unavailable = `sshd's could not be started: ${firstLine(err)}`;
      }
    }
    const sshArgs = ssh ? [`--KernelGatewayApp.remote_hosts=${ssh.hosts.join(',')}`, `--KernelGatewayApp.ssh_port=${ssh.port}`, `--KernelGatewayApp.ssh_identity_file=${ssh.keyPath}`, `--KernelGatewayApp.ssh_known_hosts_file=${ssh.knownHostsPath}`] : [];
    gw = new GatewaySystem(root, undefined, {
      name: 'gateway-prov',
      label: 'kernel-gateway (this), all provisioners',
      args: ['--KernelGatewayApp.response_ip=127.0.0.1', '--KernelGatewayApp.response_port=0', '--KernelGatewayApp.kernel_launch_timeout=60', ...sshArgs],
      env: { JUPYTER_PATH: data },
    });
    await gw.start();
    const g = gw;

    /** One start and shutdown; the kernel is gone (or given up on) when it returns. */
    const once = async (c: Case, record: boolean): Promise<void> => {
      const t0 = process.hrtime.bigint();
      const k = await g.startKernel(c.kernelspec);
      c.ids.push(k.id);
      let startError: unknown;
      try {
        const client = await g.connect(k, 'json');
        try {
          await client.kernelInfo();
          if (record) c.startMs.push(elapsed(t0));
        } finally {
          await client.close();
        }
      } catch (err) {
        startError = err;
      }
      // Deleted and gone before anything else starts, whether it answered or not.
      const t1 = process.hrtime.bigint();
      await g.deleteKernel(k.id);
      const deleteMs = elapsed(t1);
      let remains: string[] = [];
      const gone = await waitFor(async () => (remains = await remainsOf(api, c.engine, k.id)).length === 0, GONE_TIMEOUT_MS, 10);
      if (startError) throw startError;
      if (!gone) throw new Error(`kernel ${k.id} not gone ${GONE_TIMEOUT_MS / 1000} s after DELETE: ${remains.join(', ')}`);
      if (record) {
        c.deleteMs.push(deleteMs);
        c.goneMs.push(elapsed(t1));
      }
    };

    // One untimed start per provisioner first: it checks the engine works (else a row says so).
    for (const c of cases.filter((x) => !x.unavailable)) {
      opts.log(`[bench] figure 8: warm-up ${c.provisioner}`);
      try {
        await once(c, false);
      } catch (err) {
        c.unavailable = `the warm-up start failed: ${firstLine(err)}`;
      }
    }
    const measured = cases.filter((x) => !x.unavailable);
    for (let r = 0; r < rounds; r++) {
      opts.log(`[bench] figure 8: round ${r + 1}/${rounds}`);
      for (const c of roundOrder(measured, r)) {
        try {
          await once(c, true);
        } catch (err) {
          c.failures.push(firstLine(err));
        }
      }
    }

    // What is left, asked the engines' own way, before the gateway's shutdown could tidy it up.
    const ours = new Set(cases.flatMap((c) => c.ids));
    const labelled = api ? (await docker(['ps', '-a', '--filter', 'label=app=kernel-gateway', '--format', '{{.Label "kernel_id"}}'])).split('\n').filter(Boolean) : [];
    const services = api && !swarmCase.unavailable ? (await docker(['service', 'ls', '--filter', 'label=app=kernel-gateway', '--format', '{{.Name}}'])).split('\n').filter(Boolean) : [];
    for (const c of cases) {
      for (const id of c.ids) {
        c.left.push(...pidsWithCmdline(id).map((p) => `pid ${p}`));
        if (labelled.includes(id)) c.left.push(`container of ${id}`);
        if (services.includes(`kg-${id}`)) c.left.push(`service kg-${id}`);
      }
    }
    const others = labelled.filter((id) => !ours.has(id)).length + services.filter((n) => !ours.has(n.replace(/^kg-/, ''))).length;
    if (others) notes.push(`docker also lists ${others} container(s)/service(s) labelled app=kernel-gateway that are not this figure's (another gateway on this machine); not counted.`);
  } finally {
    const left = (await gw?.stop().catch(() => [] as number[])) ?? [];
    if (left.length) notes.push(`the gateway's stop killed ${left.length} leftover process(es)`);
    const stray = [...killLeftovers(root), ...cases.flatMap((c) => c.ids.flatMap((id) => killLeftovers(id)))];
    if (stray.length) notes.push(`killed stray process(es) ${stray.join(', ')}`);
    await ssh?.stop();
    rmSync(root, { recursive: true, force: true });
  }

  const table = [['provisioner', 'kernelspec', 'starts', 'start p50 ms', 'start max ms', 'DELETE reply p50 ms', 'shutdown p50 ms', 'shutdown max ms', 'left after', 'status']];
  const results: Record<string, unknown> = {};
  for (const c of cases) {
    const start = summarize(c.startMs);
    const del = summarize(c.deleteMs);
    const gone = summarize(c.goneMs);
    results[c.provisioner] = { kernelspec: c.kernelspec, unavailable: c.unavailable, start_ms: start, delete_reply_ms: del, shutdown_ms: gone, start_samples: c.startMs, shutdown_samples: c.goneMs, failures: c.failures, left: c.left };
    if (c.unavailable && !c.startMs.length) {
      table.push([c.provisioner, c.kernelspec, '0', '—', '—', '—', '—', '—', c.left.length ? c.left.join(', ') : 'nothing', `NOT MEASURED: ${c.unavailable}`]);
      continue;
    }
    table.push([
      c.provisioner,
      c.kernelspec,
      `${c.startMs.length}/${rounds}`,
      formatNumber(start.p50),
      formatNumber(start.max),
      formatNumber(del.p50),
      formatNumber(gone.p50),
      formatNumber(gone.max),
      c.left.length ? c.left.join(', ') : 'nothing',
      c.failures.length ? `${c.failures.length} failed` : 'ok',
    ]);
    notes.push(...c.failures.map((f) => `FAILED (${c.provisioner}): ${f}`));
  }
  notes.unshift(
    `${rounds} starts per provisioner after one untimed warm-up each, provisioners interleaved in a rotating order; each kernel is deleted and gone before the next start. Start: POST /api/kernels, a new websocket, one kernel_info round trip. Shutdown: DELETE until no process mentions the kernel id and (docker, swarm) no container or service is labelled with it; "DELETE reply" is when the gateway answered.`,
    `Engines as in the real-engine tests: image ${KERNEL_IMAGE} (built from nothing, the host system bound read-only, network host), a one-node swarm, sshd's on 127.0.0.2 and 127.0.0.3 (Enterprise Gateway's launchers unmodified). "left after": processes mentioning this provisioner's kernel ids, and \`docker ps -a\` / \`docker service ls\` filtered by label app=kernel-gateway, checked after the last round, before the gateway stopped.`,
  );
  return { id: 'provisioners', title, table, notes, data: results };
}
