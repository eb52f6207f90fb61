// Kernels as Docker Swarm services (gateway_provisioners' docker-swarm-provisioner, Enterprise
// Gateway's DockerSwarmProcessProxy): one service per launch, one replica that is never restarted
// by the swarm (the gateway restarts kernels itself), found through its task, removed with the
// kernel. Swarm has no "wait" for a service: its task's state is polled.
import type Dockerode from 'dockerode';
import type { LaunchRequest, ProcessDescription, ProcessEnd, ReattachRequest } from './provisioner.js';
import { RemoteProvisioner, type LaunchParameters, type StartedRemote } from './remote-provisioner.js';
import { chooseImage, containerConfig, containerEnvironment, KERNEL_LABELS, type ContainerConfig } from './container-config.js';
import { alreadyGone, dockerClient, type ContainerProvisionerOptions } from './docker-provisioner.js';

export const SWARM_PROVISIONER = 'docker-swarm-provisioner';

/** How often a kernel service's task is looked at. */
const POLL_MS = 1000;
const OVER = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

interface Task {
  Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  NodeID?: string;
}

export class SwarmProvisioner extends RemoteProvisioner {
  readonly name = SWARM_PROVISIONER;
  private readonly config: ContainerConfig;
  private service?: Dockerode.Service;
  private serviceName?: string;
  private containerId?: string;
  private polling?: NodeJS.Timeout;
  private endWith?: (end: ProcessEnd) => void;

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
    const labels = { ...KERNEL_LABELS, kernel_id: params.kernelId };
    this.serviceName = `kg-${params.kernelId}`;
    const created = await docker.createService({
      Name: this.serviceName,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: image,
          Env: containerEnvironment(request, params, this.config),
          Labels: labels,
          Mounts: this.config.mounts.map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
          Init: true,
        },
        RestartPolicy: { Condition: 'none' },
        ...(this.config.network ? { Networks: [{ Target: this.config.network }] } : {}),
      },
      Mode: { Replicated: { Replicas: 1 } },
    } as Dockerode.CreateServiceOptions);
    const id = (created as unknown as { id?: string; ID?: string }).id ?? (created as unknown as { ID: string }).ID;
    this.service = docker.getService(id);
    request.log.info(`Kernel ${params.kernelId}: swarm service ${this.serviceName} (${image}) created`);
    return { ended: this.watch(docker, id) };
  }

  /** Resolves when the service's task is over, or once the service is removed. */
  private watch(docker: Dockerode, serviceId: string): Promise<ProcessEnd> {
    return new Promise((resolve) => {
      this.endWith = (end) => {
        if (this.polling) clearTimeout(this.polling);
        this.endWith = undefined;
        resolve(end);
      };
      const poll = async (): Promise<void> => {
        if (!this.endWith) return;
        try {
          const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) })) as Task[];
          const status = tasks[0]?.Status;
          this.containerId = status?.ContainerStatus?.ContainerID?.slice(0, 12) || this.containerId;
          if (status?.State && OVER.has(status.State)) return this.endWith?.({ code: status.ContainerStatus?.ExitCode ?? null, signal: null });
        } catch (err) {
          if (alreadyGone(err)) return this.endWith?.({ code: null, signal: null });
        }
        if (!this.endWith) return;
        this.polling = setTimeout(() => void poll(), POLL_MS);
        this.polling.unref();
      };
      void poll();
    });
  }

  protected async stop(): Promise<void> {
    await this.removeService();
  }

  protected async remove(): Promise<void> {
    await this.removeService();
  }

  private async removeService(): Promise<void> {
    const service = this.service;
    if (!service) return;
    this.service = undefined;
    await service.remove().catch((err: unknown) => {
      if (!alreadyGone(err)) throw err;
    });
    // Removing a service ends its task: nothing is left to wait for.
    this.endWith?.({ code: null, signal: 'SIGKILL' });
  }

  protected where(): { service?: string; container?: string } {
    return { service: this.serviceName, container: this.containerId };
  }

  protected describeRemote(): ProcessDescription | undefined {
    return this.service ? { service: this.service.id, serviceName: this.serviceName, container: this.containerId } : undefined;
  }

  /** The service must still be there with this kernel's labels; its task is watched again. */
  protected async reattachRemote(description: ProcessDescription, request: ReattachRequest): Promise<StartedRemote | undefined> {
    if (typeof description.service !== 'string' || !/^[0-9a-z]{10,64}$/.test(description.service)) return undefined;
    const docker = await dockerClient();
    const service = docker.getService(description.service);
    let info: { Spec?: { Name?: string; Labels?: Record<string, string> } };
    try {
      info = (await service.inspect()) as typeof info;
    } catch (err) {
      if (alreadyGone(err)) return undefined;
      throw err;
    }
    if (info.Spec?.Labels?.kernel_id !== request.kernelId || info.Spec?.Labels?.app !== KERNEL_LABELS.app) return undefined;
    this.service = service;
    this.serviceName = info.Spec.Name;
    this.containerId = typeof description.container === 'string' ? description.container : undefined;
    return { ended: this.watch(docker, description.service) };
  }

  protected releaseRemote(): void {
    if (this.polling) clearTimeout(this.polling);
    this.endWith = undefined;
    this.service = undefined;
  }
}
