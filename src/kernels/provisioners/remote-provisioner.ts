// What every provisioner of kernels elsewhere (a container, a Swarm service, an SSH host) shares:
// Enterprise Gateway's launch protocol. The launch registers with the gateway's response
// listener (a fresh key pair), starts the remote process with {kernel_id}, {response_address},
// {public_key} and {port_range}, and waits for its launcher to send back the kernel's
// connection info; interrupts and shutdown then go to the launcher's comm_port. Subclasses only
// start, stop and remove their kind of process.
import { constants } from 'node:os';
import type { ConnectionInfo } from '../connection-file.js';
import { shutdownLauncher, signalKernel } from '../launch-protocol/comm-port.js';
import type { LaunchResponse, ResponseListener } from '../launch-protocol/response-listener.js';
import type { KernelLocation, KernelProvisioner, LaunchedProcess, LaunchRequest, ProcessDescription, ProcessEnd, ReattachRequest } from './provisioner.js';
import { GatewayError, KernelExitedEarlyError, KernelLaunchError } from '../../errors.js';

export interface RemoteContext {
  listener: ResponseListener;
  /** KernelGatewayApp.port_range, `lower..upper` (`0..0`: any port). */
  portRange: string;
}

/** The launch protocol's values, as argv placeholders and environment variables name them. */
export interface LaunchParameters {
  kernelId: string;
  responseAddress: string;
  publicKey: string;
  portRange: string;
}

/** A remote process just started: how its end will be known. */
export interface StartedRemote {
  ended: Promise<ProcessEnd>;
}

/** How long a comm_port request may take before the provisioner falls back on its own means. */
const COMM_PORT_TIMEOUT_MS = 3000;

export abstract class RemoteProvisioner implements KernelProvisioner {
  abstract readonly name: string;
  /** The running launcher's report (connection, comm_port, pid), once it has sent it. */
  protected response?: LaunchResponse;
  private kernelId?: string;
  /** cleanup(false) ran: the kernel is over, whatever a launch in flight still does. */
  private finished = false;

  protected constructor(protected readonly remote: RemoteContext) {}

  /** Starts the kernel's process with the launch protocol's parameters. */
  protected abstract start(request: LaunchRequest, params: LaunchParameters): Promise<StartedRemote>;
  /** Ends the process now (after the launcher was asked to shut down, or when it cannot be). */
  protected abstract stop(): Promise<void>;
  /** Removes what the process leaves (container, service); it will run again if `restart`. */
  protected abstract remove(restart: boolean): Promise<void>;
  protected abstract where(): Omit<KernelLocation, 'provisioner'>;
  /** The container, service or host of the running process, for the kernel store. */
  protected abstract describeRemote(): ProcessDescription | undefined;
  /** Finds the process a description names again, if it is still there and that kernel's. */
  protected abstract reattachRemote(description: ProcessDescription, request: ReattachRequest): Promise<StartedRemote | undefined>;
  /** Stops watching the process (the gateway stops; the kernel stays). */
  protected abstract releaseRemote(): void;

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    const { listener } = this.remote;
    this.kernelId = request.kernelId;
    const expected = await listener.expect(request.kernelId, request.timeoutMs);
    const params: LaunchParameters = { kernelId: request.kernelId, responseAddress: expected.responseAddress, publicKey: expected.publicKey, portRange: this.remote.portRange };
    this.response = undefined;
    let started: StartedRemote;
    try {
      started = await this.start(request, params);
    } catch (err) {
      listener.cancel(request.kernelId);
      // An engine's own errors (Docker's carry an HTTP statusCode) are launch failures here.
      if (err instanceof GatewayError) throw err;
      throw new KernelLaunchError(`Kernel "${request.spec.name}" (${this.name}) could not be started: ${(err as Error).message}`, { cause: err });
    }
    // The kernel was ended while its process was being created: that process goes too.
    if (this.finished) {
      listener.cancel(request.kernelId);
      await this.stop().catch(() => undefined);
      await this.remove(false).catch(() => undefined);
      throw new KernelLaunchError(`Kernel ${request.kernelId} was shut down while starting`);
    }
    const exitedEarly = started.ended.then((end): never => {
      listener.cancel(request.kernelId);
      throw end.error ?? new KernelExitedEarlyError(`Kernel "${request.spec.name}" (${this.name}) ended before its launcher reported (exit code ${end.code ?? end.signal})`);
    });
    exitedEarly.catch(() => undefined);
    this.response = await Promise.race([expected.response, exitedEarly]);
    const connectionInfo: ConnectionInfo = { ...this.response.connection, ip: this.response.host };
    return { connectionInfo, ended: started.ended };
  }

  /** Through the launcher's comm_port, as Enterprise Gateway does (the process is not ours to signal). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const response = this.response;
    if (!response?.commPort) return;
    await signalKernel({ host: response.host, port: response.commPort }, constants.signals[signal], COMM_PORT_TIMEOUT_MS);
  }

  async kill(): Promise<void> {
    const response = this.response;
    if (response?.commPort) await shutdownLauncher({ host: response.host, port: response.commPort }, COMM_PORT_TIMEOUT_MS).catch(() => undefined);
    await this.stop();
  }

  /** Nothing remote can be ended synchronously; a clean shutdown removes it (see cleanup). */
  killNow(): void {}

  /** At the end, a launch still waiting for its launcher is cancelled and its process ended. */
  async cleanup(restart: boolean): Promise<void> {
    if (!restart) {
      this.finished = true;
      if (this.kernelId) this.remote.listener.cancel(this.kernelId, `kernel ${this.kernelId} was shut down`);
      if (!this.response) await this.stop().catch(() => undefined);
    }
    await this.remove(restart);
  }

  location(): KernelLocation {
    return { provisioner: this.name, host: this.response?.host, ...this.where() };
  }

  describe(): ProcessDescription | undefined {
    const remote = this.describeRemote();
    const r = this.response;
    if (!remote || !r) return undefined;
    // What the launcher reported, less the connection info (the record keeps that once).
    return { ...remote, launcher: { host: r.host, peerAddress: r.peerAddress, commPort: r.commPort, pid: r.pid ?? null, pgid: r.pgid ?? null } };
  }

  async reattach(request: ReattachRequest): Promise<LaunchedProcess | undefined> {
    const launcher = request.description.launcher as Record<string, unknown> | undefined;
    if (typeof launcher !== 'object' || launcher === null || typeof launcher.host !== 'string' || !Number.isInteger(launcher.commPort)) return undefined;
    const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);
    this.kernelId = request.kernelId;
    this.response = {
      kernelId: request.kernelId,
      connection: request.connectionInfo,
      host: launcher.host,
      peerAddress: typeof launcher.peerAddress === 'string' ? launcher.peerAddress : launcher.host,
      commPort: launcher.commPort as number,
      pid: int(launcher.pid),
      pgid: int(launcher.pgid),
    };
    const started = await this.reattachRemote(request.description, request);
    if (!started) {
      this.response = undefined;
      return undefined;
    }
    return { connectionInfo: { ...request.connectionInfo, ip: launcher.host }, ended: started.ended };
  }

  release(): void {
    this.releaseRemote();
  }
}

/** The launch protocol's environment, as Enterprise Gateway's launch_docker.py passes it. */
export function launchEnvironment(request: LaunchRequest, params: LaunchParameters): Record<string, string> {
  return {
    KERNEL_ID: params.kernelId,
    RESPONSE_ADDRESS: params.responseAddress,
    PUBLIC_KEY: params.publicKey,
    PORT_RANGE: params.portRange,
    KERNEL_LANGUAGE: request.spec.spec.language,
  };
}

/** The kernelspec argv with the launch protocol's placeholders filled in (SSH hosts run it). */
export function launchArgv(argv: string[], params: LaunchParameters): string[] {
  return argv.map((a) =>
    a.replaceAll('{kernel_id}', params.kernelId).replaceAll('{response_address}', params.responseAddress).replaceAll('{public_key}', params.publicKey).replaceAll('{port_range}', params.portRange),
  );
}
