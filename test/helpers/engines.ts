// Real engines for remote-kernel tests: the local dockerd (and its one-node swarm), a kernel
// image built here without a registry, sshd's started at test time on loopback addresses, and
// Enterprise Gateway's unmodified launchers (../shared/interop/enterprise_gateway/).
// scripts/ci/engines.sh prepares the machine; these only check and use what is there, and
// each *Unavailable() says why an engine cannot be used (a test's skip reason), or undefined.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Enterprise Gateway's kernel-side files, unmodified (see its README). */
export const EG_DIR = fileURLToPath(new URL('../../../../shared/interop/enterprise_gateway/', import.meta.url));
export const EG_LAUNCHERS_DIR = join(EG_DIR, 'kernel-launchers');
export const EG_PYTHON_LAUNCHER = join(EG_LAUNCHERS_DIR, 'python/scripts/launch_ipykernel.py');
/** Debian's python (the one with python3-ipykernel and python3-pycryptodome), never a pyenv one on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** The test image: empty, run with the host's system bound read-only. */
export const KERNEL_IMAGE = 'kg-test-kernel:eg';
/** Where the launchers are bound inside the image's containers. */
export const CONTAINER_LAUNCHERS_DIR = '/kernel-launchers';
/** Host directories a container of KERNEL_IMAGE needs (read-only), then the launchers. */
export const KERNEL_IMAGE_MOUNTS: { source: string; target: string }[] = [
  ...['/usr', '/lib', '/lib64', '/bin', '/etc'].filter((d) => existsSync(d)).map((d) => ({ source: d, target: d })),
  { source: EG_LAUNCHERS_DIR, target: CONTAINER_LAUNCHERS_DIR },
];

/** Why Enterprise Gateway's python launcher cannot run here, or undefined. */
export async function launcherUnavailable(): Promise<string | undefined> {
  if (!existsSync(EG_PYTHON_LAUNCHER)) return `${EG_PYTHON_LAUNCHER} is missing`;
  try {
    await run(DEBIAN_PYTHON, ['-c', 'import Cryptodome, ipykernel, jupyter_client']);
    return undefined;
  } catch {
    return `${DEBIAN_PYTHON} lacks Cryptodome or ipykernel (apt-get install python3-pycryptodome python3-ipykernel; scripts/ci/engines.sh does it)`;
  }
}

export async function docker(args: string[], opts: { input?: Buffer; timeoutMs?: number } = {}): Promise<string> {
  const child = spawn('docker', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(opts.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${code}: ${err.trim()}`);
  return out.trim();
}

let dockerCheck: Promise<string | undefined> | undefined;

/** Why there is no usable docker daemon here, or undefined. */
export function dockerUnavailable(): Promise<string | undefined> {
  dockerCheck ??= docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 }).then(
    () => undefined,
    (err: Error) => `no docker daemon answers (run scripts/ci/engines.sh): ${err.message.split('\n')[0]}`,
  );
  return dockerCheck;
}

export async function dockerAvailable(): Promise<boolean> {
  return (await dockerUnavailable()) === undefined;
}

/** Why there is no active swarm here, or undefined. */
export async function swarmUnavailable(): Promise<string | undefined> {
  const noDocker = await dockerUnavailable();
  if (noDocker) return noDocker;
  const state = await docker(['info', '--format', '{{.Swarm.LocalNodeState}}']).catch(() => 'unknown');
  return state === 'active' ? undefined : `the swarm is ${state} (docker swarm init --advertise-addr 127.0.0.1; scripts/ci/engines.sh does it)`;
}

/** An empty tar archive: two zero blocks. */
const EMPTY_TAR = Buffer.alloc(1024);

/** Builds KERNEL_IMAGE from nothing (docker import of an empty tarball; no registry) unless it
 *  exists: its CMD is Enterprise Gateway's bootstrap-kernel.sh from the bound launchers. */
export async function buildKernelImage(): Promise<string> {
  const present = await docker(['image', 'inspect', '--format', '{{.Id}}', KERNEL_IMAGE]).then(
    () => true,
    () => false,
  );
  if (present) return KERNEL_IMAGE;
  await docker(
    [
      'import',
      '--change', `CMD ["/bin/bash", "${CONTAINER_LAUNCHERS_DIR}/bootstrap/bootstrap-kernel.sh"]`,
      '--change', `ENV KERNEL_LAUNCHERS_DIR=${CONTAINER_LAUNCHERS_DIR} KERNEL_LANGUAGE=python PATH=/usr/local/bin:/usr/bin:/bin`,
      '--message', 'kernel-gateway test image: run with the host system bound read-only',
      '-', KERNEL_IMAGE,
    ],
    { input: EMPTY_TAR },
  );
  return KERNEL_IMAGE;
}

// ---- Kernelspecs as Enterprise Gateway ships them ------------------------------------------

const EG_PROXIES = 'enterprise_gateway.services.processproxies';

/** Writes kernelspec `name` under `dataDir` whose process proxy is Enterprise Gateway's
 *  docker_swarm `className` (DockerProcessProxy, DockerSwarmProcessProxy) with `config`. Its
 *  argv runs launch_docker.py, as Enterprise Gateway's does; the gateway starts the container. */
export function writeContainerKernelspec(dataDir: string, name: string, className: string, config: Record<string, unknown>): void {
  mkdirSync(join(dataDir, 'kernels', name), { recursive: true });
  const argv = ['python', '/usr/local/share/jupyter/kernels/python_docker/scripts/launch_docker.py', '--RemoteProcessProxy.kernel-id', '{kernel_id}', '--RemoteProcessProxy.port-range', '{port_range}', '--RemoteProcessProxy.response-address', '{response_address}', '--RemoteProcessProxy.public-key', '{public_key}'];
  writeFileSync(join(dataDir, 'kernels', name, 'kernel.json'), JSON.stringify({ display_name: name, language: 'python', argv, metadata: { process_proxy: { class_name: `${EG_PROXIES}.docker_swarm.${className}`, config } } }));
}

/** Writes Enterprise Gateway's python_distributed kernelspec as `name` under `dataDir`, with
 *  python and the launcher where they are here. */
export function writeDistributedKernelspec(dataDir: string, name = 'py_distributed'): void {
  const spec = JSON.parse(readFileSync(join(EG_DIR, 'kernelspecs/python_distributed/kernel.json'), 'utf8')) as { argv: string[] };
  spec.argv[0] = DEBIAN_PYTHON;
  spec.argv[1] = EG_PYTHON_LAUNCHER;
  mkdirSync(join(dataDir, 'kernels', name), { recursive: true });
  writeFileSync(join(dataDir, 'kernels', name, 'kernel.json'), JSON.stringify(spec));
}

/** `docker run` arguments binding KERNEL_IMAGE_MOUNTS read-only. */
export function kernelImageVolumes(): string[] {
  return KERNEL_IMAGE_MOUNTS.flatMap((m) => ['-v', `${m.source}:${m.target}:ro`]);
}

/** `docker service create` arguments binding KERNEL_IMAGE_MOUNTS read-only. */
export function kernelImageServiceMounts(): string[] {
  return KERNEL_IMAGE_MOUNTS.flatMap((m) => ['--mount', `type=bind,source=${m.source},target=${m.target},readonly`]);
}

// ---- SSH hosts ------------------------------------------------------------------------------

export interface SshHosts {
  /** Loopback addresses, one sshd each, all on `port`. */
  hosts: string[];
  port: number;
  user: string;
  /** The client's private key (ed25519, generated for this run). */
  keyPath: string;
  /** known_hosts with every host's key, for StrictHostKeyChecking=yes. */
  knownHostsPath: string;
  /** ssh arguments (before the command) to run something on `host`. */
  sshArgs(host: string): string[];
  /** Ends one host's sshd (a host that went down); its sessions end with it. */
  stopHost(host: string): Promise<void>;
  stop(): Promise<void>;
}

/** Why sshd's cannot be started here, or undefined. */
export async function sshUnavailable(): Promise<string | undefined> {
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is missing (apt-get install openssh-server; scripts/ci/engines.sh does it)';
  if (process.getuid?.() !== 0) return 'sshd for other loopback addresses needs root';
  try {
    await run('ssh', ['-V']);
    await run('ssh-keygen', ['-?']).catch((e: { stderr?: string }) => {
      if (!String(e.stderr).includes('usage')) throw e;
    });
  } catch {
    return 'the OpenSSH client (ssh, ssh-keygen) is missing';
  }
  return undefined;
}

/** sshd's this test process started end with it, even when the runner ends it early. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOnExit(proc: ChildProcess): void {
  if (!exitHookInstalled) process.once('exit', () => children.forEach((p) => p.kill('SIGTERM')));
  exitHookInstalled = true;
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
}

/** A port free on every one of `hosts`. */
async function portFreeOn(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const free = await Promise.all(
      hosts.map(
        (host) =>
          new Promise<boolean>((resolve) => {
            const server = createServer();
            server.once('error', () => resolve(false));
            server.listen(port, host, () => server.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

/** Resolves once `host:port` sends an SSH banner. */
async function untilSshAnswers(host: string, port: number, proc: ChildProcess, logs: () => string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sshd on ${host}:${port} exited (${proc.exitCode}): ${logs()}`);
    const banner = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.setTimeout(1000, () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(false));
      s.once('data', (d: Buffer) => (s.destroy(), resolve(d.toString().startsWith('SSH-'))));
    });
    if (banner) return;
    if (Date.now() > end) throw new Error(`sshd on ${host}:${port} did not answer in time: ${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `n` sshd's on 127.0.0.2, 127.0.0.3, ... (key authentication only, keys generated now,
 *  each in the foreground as our child), and waits until each answers. */
export async function startSshHosts(n: number): Promise<SshHosts> {
  const dir = mkdtempSync(join(tmpdir(), 'kg-ssh-'));
  const hosts = Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
  const keyPath = join(dir, 'user_key');
  const hostKey = join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kg-test-user', '-f', keyPath]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kg-test-host', '-f', hostKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyPath}.pub`), { mode: 0o600 });
  const port = await portFreeOn(hosts);
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, hosts.map((h) => `[${h}]:${port} ${hostPub}\n`).join(''));
  // sshd's privilege separation directory (Debian's package creates it only when the service runs).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const procs = new Map<string, ChildProcess>();
  const stopHost = async (host: string): Promise<void> => {
    const proc = procs.get(host);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(hosts.map(stopHost));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const host of hosts) {
      const config = join(dir, `sshd_config.${host}`);
      writeFileSync(
        config,
        [
          `ListenAddress ${host}:${port}`,
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, `sshd.${host}.pid`)}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'AuthenticationMethods publickey',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          // Debian's default; root may log in with a key only.
          'PermitRootLogin prohibit-password',
          'UsePAM no',
          // The files live under the world-writable tmpdir, which StrictModes refuses.
          'StrictModes no',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      let logs = '';
      const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr!.on('data', (c: Buffer) => (logs = (logs + c.toString()).slice(-20_000)));
      procs.set(host, proc);
      killOnExit(proc);
      await untilSshAnswers(host, port, proc, () => logs);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const user = userInfo().username;
  return {
    hosts,
    port,
    user,
    keyPath,
    knownHostsPath,
    sshArgs: (host) => ['-i', keyPath, '-p', String(port), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHostsPath}`, '-o', 'LogLevel=ERROR', `${user}@${host}`],
    stopHost,
    stop,
  };
}
