// The provisioners this gateway has, by the names kernelspecs give them.
import type { ResponseListener } from '../launch-protocol/response-listener.js';
import { DOCKER_PROVISIONER, DockerProvisioner } from './docker-provisioner.js';
import { LOCAL_PROVISIONER, LocalProvisioner } from './local-provisioner.js';
import { ProvisionerRegistry } from './registry.js';
import { SWARM_PROVISIONER, SwarmProvisioner } from './swarm-provisioner.js';
import { DISTRIBUTED_PROVISIONER, DistributedProvisioner, type SshSettings } from './distributed-provisioner.js';
import { HostBalancer, type BalancingAlgorithm } from './host-balancer.js';

export interface BuiltinProvisionerOptions {
  /** Where local kernels' connection files go. */
  runtimeDir: string;
  /** The gateway's response address, for the launchers of kernels elsewhere. */
  listener: ResponseListener;
  /** KernelGatewayApp.port_range. */
  portRange: string;
  /** KernelGatewayApp.allowed_images: the images a request's KERNEL_IMAGE may name. */
  allowedImages: string[];
  /** KernelGatewayApp.remote_hosts and load_balancing_algorithm. */
  remoteHosts: string[];
  balancing: BalancingAlgorithm;
  ssh: SshSettings;
  /** availability_mode is set: kernels must outlive the gateway process. */
  outliveGateway?: boolean;
}

export function builtinProvisioners(o: BuiltinProvisionerOptions): ProvisionerRegistry {
  const remote = { listener: o.listener, portRange: o.portRange, allowedImages: o.allowedImages };
  // One balancer for every distributed kernel: least-connection counts them all.
  const balancer = new HostBalancer(o.remoteHosts, o.balancing);
  return new ProvisionerRegistry({
    [LOCAL_PROVISIONER]: () => new LocalProvisioner(o.runtimeDir),
    [DOCKER_PROVISIONER]: (entry, config) => new DockerProvisioner(entry.name, config, remote),
    [SWARM_PROVISIONER]: (entry, config) => new SwarmProvisioner(entry.name, config, remote),
    [DISTRIBUTED_PROVISIONER]: () => new DistributedProvisioner({ ...remote, balancer, ssh: o.ssh, outliveSession: o.outliveGateway }),
  });
}
