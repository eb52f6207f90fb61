// Kernels in Docker containers (gateway_provisioners' docker-provisioner, Enterprise Gateway's
// DockerProcessProxy), through the Docker Engine API (dockerode, loaded on first use): one
// container per launch, labelled with the kernel id, whose image's launcher reports back over
// the launch protocol. A restart is a new container; the old one is removed first, and every
// container is removed when its kernel ends, a failed launch included.
import type Dockerode from 'dockerode';
import type { LaunchRequest, ProcessDescription, ProcessEnd, ReattachRequest } from './provisioner.js';
import { RemoteProvisioner, type LaunchParameters, type RemoteContext, type StartedRemote } from './remote-provisioner.js';
import { chooseImage, containerConfig, containerEnvironment, KERNEL_LABELS, type ContainerConfig } from './container-config.js';

export const DOCKER_PROVISIONER = 'docker-provisioner';

let client: Promise<Dockerode> | undefined;

/** One Engine API client for the gateway (DOCKER_HOST, else the local unix socket). */
export function dockerClient(): Promise<Dockerode> {
  client ??= import('dockerode').then((m) => new m.default());
  return client;
}

/** Whether an Engine API error only says the thing is gone already (or going). */
export function alreadyGone(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode;
  return status === 404 || status === 409 || status === 304;
}

export interface ContainerProvisionerOptions extends RemoteContext {
  allowedImages: string[];
}

export class DockerProvisioner extends RemoteProvisioner {
  readonly name = DOCKER_PROVISIONER;
  private readonly config: ContainerConfig;
  private container?: Dockerode.Container;

  constructor(
    private readonly kernelspec: string,
    rawConfig: Record<string, unknown>,
    private readonly options: ContainerProvisionerOptions,
  ) {
    super(options);
    this.config = containerConfig(kernelspec, rawConfig);
  }

  protected async start(request: LaunchRequest, params: LaunchParameters): Promise<StartedRemote> {
    const image = chooseImage(this.kernelspec, this.config, request.requestEnv, this.options.allowedImages);
    const docker = await dockerClient();
    const container = await docker.createContainer({
      name: `kg-${params.kernelId}`,
      Image: image,
      Env: containerEnvironment(request, params, this.config),
      Labels: { ...KERNEL_LABELS, kernel_id: params.kernelId },
      HostConfig: {
        NetworkMode: this.config.network ?? 'bridge',
        Binds: this.config.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
        // A tiny init as PID 1 reaps the kernel's children and forwards signals.
        Init: true,
      },
    });
    this.container = container;
    // next-exit, asked before the start: a created container counts as not running.
    const ended: Promise<ProcessEnd> = container.wait({ condition: 'next-exit' }).then(
      (r: { StatusCode?: number }) => ({ code: r.StatusCode ?? null, signal: null }),
      (err: Error) => ({ code: null, signal: null, error: err }),
    );
    await container.start();
    request.log.info(`Kernel ${params.kernelId}: container ${container.id.slice(0, 12)} (${image}) started`);
    return { ended };
  }

  protected async stop(): Promise<void> {
    await this.container?.kill().catch((err: unknown) => {
      if (!alreadyGone(err)) throw err;
    });
  }

  protected async remove(): Promise<void> {
    const container = this.container;
    if (!container) return;
    this.container = undefined;
    await container.remove({ force: true }).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    });
  }

  protected where(): { container?: string } {
    return { container: this.container?.id.slice(0, 12) };
  }

  protected describeRemote(): ProcessDescription | undefined {
    return this.container ? { container: this.container.id } : undefined;
  }

  /** The container must still run and carry this kernel's labels. */
  protected async reattachRemote(description: ProcessDescription, request: ReattachRequest): Promise<StartedRemote | undefined> {
    if (typeof description.container !== 'string' || !/^[0-9a-f]{12,64}$/.test(description.container)) return undefined;
    const docker = await dockerClient();
    const container = docker.getContainer(description.container);
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      if (alreadyGone(err)) return undefined;
      throw err;
    }
    if (info.Config.Labels?.kernel_id !== request.kernelId || info.Config.Labels?.app !== KERNEL_LABELS.app) return undefined;
    this.container = container;
    if (!info.State.Running) return undefined; // removed by cleanup
    const ended: Promise<ProcessEnd> = container.wait({ condition: 'not-running' }).then(
      (r: { StatusCode?: number }) => ({ code: r.StatusCode ?? null, signal: null }),
      (err: Error) => ({ code: null, signal: null, error: err }),
    );
    return { ended };
  }

  protected releaseRemote(): void {
    this.container = undefined;
  }
}
