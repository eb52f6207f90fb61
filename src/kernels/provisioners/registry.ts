// Which provisioner a kernelspec uses, in both forms users have today: Jupyter's
// `metadata.kernel_provisioner: {provisioner_name, config}` (gateway_provisioners' names) and
// Enterprise Gateway's `metadata.process_proxy: {class_name, config}`. Without either, the
// kernel is a local process. A name this gateway has no provisioner for is kept (the kernelspec
// is still listed, with a warning) and a start of it fails naming it.
import type { KernelSpec, KernelSpecEntry } from '../kernelspecs.js';
import { LOCAL_PROVISIONER } from './local-provisioner.js';
import type { KernelProvisioner } from './provisioner.js';
import { UnknownProvisionerError } from '../../errors.js';

export interface ProvisionerChoice {
  /** gateway_provisioners' name: local-provisioner, docker-provisioner, ... */
  name: string;
  /** The kernelspec's config for it (image_name, ...): operator-controlled, never a client's. */
  config: Record<string, unknown>;
  /** Where the choice was read, for messages. */
  from: 'kernel_provisioner' | 'process_proxy' | 'default';
  /** Enterprise Gateway's class name, when it was given that way. */
  className?: string;
}

/** Enterprise Gateway's process proxy classes (by the last part of the dotted name). */
const PROCESS_PROXIES: Record<string, string> = {
  LocalProcessProxy: LOCAL_PROVISIONER,
  DockerProcessProxy: 'docker-provisioner',
  DockerSwarmProcessProxy: 'docker-swarm-provisioner',
  DistributedProcessProxy: 'distributed-provisioner',
  KubernetesProcessProxy: 'kubernetes-provisioner',
  YarnClusterProcessProxy: 'yarn-provisioner',
  SparkOperatorProcessProxy: 'spark-operator-provisioner',
  CustomResourceProcessProxy: 'custom-resource-provisioner',
  ConductorClusterProcessProxy: 'conductor-provisioner',
};

const objectOr = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function provisionerChoice(spec: KernelSpec): ProvisionerChoice {
  const metadata = objectOr(spec.metadata);
  const kp = objectOr(metadata.kernel_provisioner);
  if (typeof kp.provisioner_name === 'string' && kp.provisioner_name) return { name: kp.provisioner_name, config: objectOr(kp.config), from: 'kernel_provisioner' };
  const pp = objectOr(metadata.process_proxy);
  if (typeof pp.class_name === 'string' && pp.class_name) {
    const short = pp.class_name.slice(pp.class_name.lastIndexOf('.') + 1);
    return { name: PROCESS_PROXIES[short] ?? pp.class_name, config: objectOr(pp.config), from: 'process_proxy', className: pp.class_name };
  }
  return { name: LOCAL_PROVISIONER, config: {}, from: 'default' };
}

/** Builds one kernel's provisioner from its kernelspec and the kernelspec's provisioner config. */
export type ProvisionerBuilder = (entry: KernelSpecEntry, config: Record<string, unknown>) => KernelProvisioner;

export class ProvisionerRegistry {
  private readonly builders = new Map<string, ProvisionerBuilder>();

  constructor(builders: Record<string, ProvisionerBuilder>) {
    for (const [name, build] of Object.entries(builders)) this.builders.set(name, build);
  }

  get names(): string[] {
    return [...this.builders.keys()];
  }

  has(entry: KernelSpecEntry): boolean {
    return this.builders.has(provisionerChoice(entry.spec).name);
  }

  /** Why a kernelspec cannot be started here, or undefined when it can. */
  problem(entry: KernelSpecEntry): string | undefined {
    const choice = provisionerChoice(entry.spec);
    if (this.builders.has(choice.name)) return undefined;
    const named = choice.className ? `process proxy ${choice.className}` : `provisioner ${choice.name}`;
    return `Kernelspec ${entry.name} uses the ${named}, which this gateway does not have (it has: ${this.names.join(', ')})`;
  }

  /** The provisioner name a kernelspec's kernels get (the metrics label). */
  nameFor(entry: KernelSpecEntry): string {
    return provisionerChoice(entry.spec).name;
  }

  create(entry: KernelSpecEntry): KernelProvisioner {
    const choice = provisionerChoice(entry.spec);
    const build = this.builders.get(choice.name);
    if (!build) throw new UnknownProvisionerError(this.problem(entry)!);
    return build(entry, choice.config);
  }
}
