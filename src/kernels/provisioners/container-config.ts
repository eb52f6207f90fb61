// What a container kernel runs, shared by the Docker and Swarm provisioners: the image (the
// kernelspec's config.image_name, or the request's KERNEL_IMAGE only when the operator listed it
// in allowed_images), the environment (the launch protocol's variables, the request's kept
// KERNEL_* variables, the kernelspec's config.environment), the labels that find it again, and
// the operator's network and mounts. Nothing of a client's reaches mounts, network, privileges
// or an unlisted image.
import type { LaunchRequest } from './provisioner.js';
import { launchEnvironment, type LaunchParameters } from './remote-provisioner.js';
import { ImageNotAllowedError, ProvisionerConfigError } from '../../errors.js';

export interface ContainerConfig {
  image_name?: string;
  /** Docker network (default: Docker's bridge, as Enterprise Gateway's). */
  network?: string;
  /** `source:target[:ro]` binds. */
  mounts: { source: string; target: string; readOnly: boolean }[];
  environment: Record<string, string>;
}

/** Labels on every kernel container and service: kernel_id finds it again. */
export const KERNEL_LABELS = { component: 'kernel', app: 'kernel-gateway' } as const;

// Docker's own reference grammar, as launch_docker.py checks it.
const IMAGE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._\-/]*(:[a-zA-Z0-9._-]+)?(@sha256:[a-f0-9]+)?$/;

/** The kernelspec's config, checked (it is the operator's, but a typo deserves a clear error). */
export function containerConfig(kernelspec: string, raw: Record<string, unknown>): ContainerConfig {
  const bad = (what: string): never => {
    throw new ProvisionerConfigError(`Kernelspec ${kernelspec}: ${what}`);
  };
  const image = raw.image_name;
  if (image !== undefined && (typeof image !== 'string' || !IMAGE_NAME.test(image))) bad(`config.image_name ${JSON.stringify(image)} is not an image name`);
  const network = raw.network;
  if (network !== undefined && typeof network !== 'string') bad('config.network must be a string');
  const mounts = (Array.isArray(raw.mounts) ? raw.mounts : raw.mounts === undefined ? [] : bad('config.mounts must be a list of "source:target[:ro]"')) as unknown[];
  const parsed = mounts.map((m) => {
    const parts = typeof m === 'string' ? m.split(':') : [];
    if (parts.length < 2 || parts.length > 3 || !parts[0]!.startsWith('/') || !parts[1]!.startsWith('/') || (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw')) bad(`config.mounts entry ${JSON.stringify(m)} is not "source:target[:ro]"`);
    return { source: parts[0]!, target: parts[1]!, readOnly: parts[2] === 'ro' };
  });
  const env = raw.environment ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === 'string')) bad('config.environment must map names to strings');
  return { image_name: image as string | undefined, network: network as string | undefined, mounts: parsed, environment: env as Record<string, string> };
}

/** The image a start runs: KERNEL_IMAGE when allowed (403 otherwise), else config.image_name. */
export function chooseImage(kernelspec: string, config: ContainerConfig, requestEnv: Record<string, string>, allowedImages: string[]): string {
  const asked = requestEnv.KERNEL_IMAGE;
  if (asked !== undefined && asked !== config.image_name) {
    if (!allowedImages.includes(asked)) throw new ImageNotAllowedError(`KERNEL_IMAGE ${JSON.stringify(asked)} is not one of KernelGatewayApp.allowed_images`);
    return asked;
  }
  if (!config.image_name) throw new ProvisionerConfigError(`Kernelspec ${kernelspec} names no image (metadata ... config.image_name) and the request no allowed KERNEL_IMAGE`);
  return config.image_name;
}

/** The container's environment, as NAME=value entries. */
export function containerEnvironment(request: LaunchRequest, params: LaunchParameters, config: ContainerConfig): string[] {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.requestEnv)) if (name.startsWith('KERNEL_')) env[name] = value;
  Object.assign(env, config.environment, launchEnvironment(request, params));
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}
