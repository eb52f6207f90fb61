// Kernels on SSH hosts (gateway_provisioners' distributed-provisioner, Enterprise Gateway's
// DistributedProcessProxy): the kernelspec's argv, its launch placeholders filled in, runs on
// one of remote_hosts through the system's OpenSSH client (key authentication, known hosts
// checked, no prompts), every word quoted for the remote shell (ssh-command.ts). The session
// stays open for the kernel's life: its end is the kernel's end. A host that cannot be reached is
// skipped, with a warning, for the next one the balancer offers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { LaunchRequest, ProcessDescription, ProcessEnd, ReattachRequest } from './provisioner.js';
import { launchArgv, launchEnvironment, RemoteProvisioner, type LaunchParameters, type RemoteContext, type StartedRemote } from './remote-provisioner.js';
import { remoteCommand } from './ssh-command.js';
import { isRecordId } from '../persistence/kernel-store.js';
import type { HostBalancer } from './host-balancer.js';
import { KernelLaunchError, ProvisionerConfigError } from '../../errors.js';

export const DISTRIBUTED_PROVISIONER = 'distributed-provisioner';

export interface SshSettings {
  /** remote_user: who the kernels run as on the hosts. */
  user: string;
  /** ssh_port. */
  port: number;
  /** ssh_identity_file: the private key ('' : ssh's own default keys). */
  identityFile: string;
  /** ssh_known_hosts_file ('' : ssh's own known_hosts); unknown host keys are refused. */
  knownHostsFile: string;
  /** Seconds a host may take to accept the connection before it counts as down. */
  connectTimeoutS: number;
}

export interface DistributedOptions extends RemoteContext {
  balancer: HostBalancer;
  ssh: SshSettings;
  /** availability_mode: the kernel runs in a session of its own on its host (setsid), so that it
   *  outlives this SSH session and the gateway; a later gateway watches it over a new session. */
  outliveSession?: boolean;
}

/** The watcher's exit status when the process group it was asked about is not there. */
const GONE = 3;

/** OpenSSH's exit status for its own failures (no connection, refused key...). */
const SSH_FAILED = 255;
const HOST = /^[A-Za-z0-9_.:[\]%-]+$/;

export class DistributedProvisioner extends RemoteProvisioner {
  readonly name = DISTRIBUTED_PROVISIONER;
  private session?: ChildProcess;
  private host?: string;

  constructor(private readonly options: DistributedOptions) {
    super(options);
  }

  /** The ssh command line for `host`, up to the remote command. */
  private sshArgs(host: string): string[] {
    if (!HOST.test(host) || host.startsWith('-')) throw new ProvisionerConfigError(`remote_hosts entry ${JSON.stringify(host)} is not a host name or address`);
    const s = this.options.ssh;
    return [
      '-T',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `ConnectTimeout=${s.connectTimeoutS}`,
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=3',
      '-p', String(s.port),
      '-l', s.user,
      ...(s.identityFile ? ['-i', s.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
      ...(s.knownHostsFile ? ['-o', `UserKnownHostsFile=${s.knownHostsFile}`] : []),
      host,
    ];
  }

  protected async start(request: LaunchRequest, params: LaunchParameters): Promise<StartedRemote> {
    const env: Record<string, string> = { ...request.spec.spec.env };
    for (const [name, value] of Object.entries(request.requestEnv)) if (name.startsWith('KERNEL_')) env[name] = value;
    Object.assign(env, launchEnvironment(request, params));
    // The marker says the session is up and the host's shell runs our command.
    const marker = `kg-started-${randomUUID()}`;
    const argv = launchArgv(request.spec.spec.argv, params);
    const command = `echo ${marker}; ${remoteCommand(env, this.options.outliveSession ? ['setsid', '--wait', ...argv] : argv)}`;
    const tried: string[] = [];
    for (const host of this.options.balancer.order()) {
      const started = await this.tryHost(host, command, marker, request.log);
      if (started) {
        this.host = host;
        this.options.balancer.acquire(host);
        request.log.info(`Kernel ${params.kernelId}: launched on ${this.options.ssh.user}@${host}`);
        return started;
      }
      tried.push(host);
      request.log.warn(`SSH host ${host} cannot be reached; trying the next of remote_hosts`);
    }
    throw new KernelLaunchError(`No host of remote_hosts could be reached over SSH (tried ${tried.join(', ')})`);
  }

  protected describeRemote(): ProcessDescription | undefined {
    return this.host ? { host: this.host } : undefined;
  }

  /** A new session on the kernel's host waits for its process group; its end is the kernel's. */
  protected async reattachRemote(description: ProcessDescription, request: ReattachRequest): Promise<StartedRemote | undefined> {
    const host = description.host;
    const pgid = this.response?.pgid;
    if (typeof host !== 'string' || !this.options.balancer.knows(host) || !pgid || pgid <= 1) return undefined;
    const group = `-${pgid}`;
    const marker = `kg-watching-${randomUUID()}`;
    // The group's leader must be this kernel's launcher (its arguments name the kernel id): a
    // record naming some other process group of remote_user's is not taken, nor later killed.
    if (!isRecordId(request.kernelId)) return undefined;
    const ours = `ps -o args= -p ${pgid} 2>/dev/null | grep -qF -- ${request.kernelId}`;
    const command = `kill -0 -- ${group} 2>/dev/null && ${ours} || exit ${GONE}; echo ${marker}; while kill -0 -- ${group} 2>/dev/null; do sleep 1; done`;
    let started: StartedRemote | undefined;
    try {
      started = await this.tryHost(host, command, marker, request.log);
    } catch (err) {
      if (err instanceof KernelLaunchError && (err as KernelLaunchError & { exitCode?: number }).exitCode === GONE) return undefined;
      throw err;
    }
    if (!started) throw new KernelLaunchError(`SSH host ${host} of kernel ${request.kernelId} cannot be reached`);
    this.host = host;
    this.options.balancer.acquire(host);
    return started;
  }

  protected releaseRemote(): void {
    // The kernel runs in a session of its own: ending ours leaves it running.
    this.session?.kill('SIGTERM');
    this.session = undefined;
  }

  /** Runs the command on `host`: the session once it is up, undefined if the host is down. */
  private tryHost(host: string, command: string, marker: string, log: LaunchRequest['log']): Promise<StartedRemote | undefined> {
    return new Promise((resolve, reject) => {
      const session = spawn('ssh', [...this.sshArgs(host), command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let up = false;
      let out = '';
      let err = '';
      const ended = new Promise<ProcessEnd>((resolveEnd) => {
        session.once('exit', (code, signal) => resolveEnd({ code, signal }));
        session.once('error', (e) => resolveEnd({ code: null, signal: null, error: new KernelLaunchError(`Could not run ssh: ${e.message}`, { cause: e }) }));
      });
      session.stdout!.on('data', (chunk: Buffer) => {
        if (up) return void process.stderr.write(chunk);
        out += chunk.toString();
        if (!out.includes(marker)) return;
        up = true;
        this.session = session;
        resolve({ ended });
      });
      session.stderr!.on('data', (chunk: Buffer) => {
        if (up) process.stderr.write(chunk);
        else err = (err + chunk.toString()).slice(-2000);
      });
      void ended.then((end) => {
        if (up) return;
        if (end.error) return reject(end.error);
        if (end.code === SSH_FAILED) {
          log.debug(`ssh ${host}: ${err.trim()}`);
          return resolve(undefined);
        }
        reject(Object.assign(new KernelLaunchError(`The command failed on ${host} (exit code ${end.code ?? end.signal}): ${err.trim().slice(-500)}`), { exitCode: end.code }));
      });
    });
  }

  /** The launcher's process group on its host, when it reported one. */
  private killCommand(): string[] | undefined {
    const pgid = this.response?.pgid;
    if (!this.host || !pgid || !Number.isInteger(pgid) || pgid <= 1) return undefined;
    return [...this.sshArgs(this.host), `kill -9 -- -${pgid}`];
  }

  protected async stop(): Promise<void> {
    const kill = this.killCommand();
    if (kill) {
      await new Promise<void>((resolve) => {
        const p = spawn('ssh', kill, { stdio: 'ignore' });
        const timer = setTimeout(() => p.kill('SIGKILL'), (this.options.ssh.connectTimeoutS + 5) * 1000);
        p.once('exit', () => (clearTimeout(timer), resolve()));
        p.once('error', () => (clearTimeout(timer), resolve()));
      });
    }
    this.session?.kill('SIGKILL');
  }

  override killNow(): void {
    const kill = this.killCommand();
    if (kill) spawnSync('ssh', kill, { stdio: 'ignore', timeout: 5000 });
    this.session?.kill('SIGKILL');
  }

  protected async remove(): Promise<void> {
    if (this.host) this.options.balancer.release(this.host);
    this.host = undefined;
    this.session = undefined;
  }

  protected where(): { host?: string } {
    return { host: this.host };
  }
}
