// The provisioners this gateway has, by the names kernelspecs give them.
import type { ResponseListener } from '../launch-protocol/response-listener.js';
import { DOCKER_PROVISIONER, DockerProvisioner } from './docker-provisioner.js';
import { LOCAL_PROVISIONER, LocalProvisioner } from './local-provisioner.js';
import { ProvisionerRegistry } from './registry.js';
import { SWARM_PROVISIONER, SwarmProvisioner } from './swarm-provisioner.js';

export interface BuiltinProvisionerOptions {
  /** Where local kernels' connection files go. */
  runtimeDir: string;
  /** The gateway's response address, for the launchers of kernels elsewhere. */
  listener: ResponseListener;
  /** KernelGatewayApp.port_range. */
  portRange: string;
  /** KernelGatewayApp.allowed_images: the images a request's KERNEL_IMAGE may name. */
  allowedImages: string[];
}

export function builtinProvisioners(o: BuiltinProvisionerOptions): ProvisionerRegistry {
  const remote = { listener: o.listener, portRange: o.portRange, allowedImages: o.allowedImages };
  return new ProvisionerRegistry({
    [LOCAL_PROVISIONER]: () => new LocalProvisioner(o.runtimeDir),
    [DOCKER_PROVISIONER]: (entry, config) => new DockerProvisioner(entry.name, config, remote),
    [SWARM_PROVISIONER]: (entry, config) => new SwarmProvisioner(entry.name, config, remote),
  });
}
