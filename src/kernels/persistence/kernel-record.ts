// One kernel's record in the store: what another gateway process needs to find the kernel's
// process again (its provisioner's own description of it) and to talk to it (the connection
// info, with the key), and to restart it later as it was started (its environment).
import type { ConnectionInfo } from '../connection-file.js';

export const KERNEL_RECORD_VERSION = 1;

export interface KernelRecord {
  version: typeof KERNEL_RECORD_VERSION;
  id: string;
  /** The kernelspec's name. */
  kernelName: string;
  /** The provisioner's name (local-provisioner, docker-provisioner...). */
  provisioner: string;
  /** The provisioner's description of the process, container, service or host. */
  description: Record<string, unknown>;
  connectionInfo: ConnectionInfo;
  /** The environment the kernel was started with, and the part of it the request gave. */
  env: Record<string, string>;
  requestEnv: Record<string, string>;
  createdAt: string;
  restarts: number;
  /** A warm pool kernel not handed out yet, and the env flavour it was started with. */
  warmPool: 'inherited' | 'restricted' | null;
  /** A fingerprint of the seed notebook cells the kernel ran (null: none). */
  seed: string | null;
  /** Written as soon as the process exists, before it answered: a gateway that stopped then
   *  never handed it to a client, so the next one ends it rather than adopting it. */
  launching: boolean;
  /** The gateway process that launched the current process (it restarts it if it dies). */
  owner: string;
  updatedAt: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');
const PORTS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

function connectionProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'connectionInfo is not an object';
  if (v.transport !== 'tcp') return 'connectionInfo.transport is not tcp';
  if (typeof v.ip !== 'string' || !v.ip) return 'connectionInfo.ip is missing';
  for (const p of PORTS) if (!Number.isInteger(v[p]) || (v[p] as number) < 1 || (v[p] as number) > 65535) return `connectionInfo.${p} is not a port`;
  if (typeof v.key !== 'string') return 'connectionInfo.key is missing';
  if (v.signature_scheme !== 'hmac-sha256') return 'connectionInfo.signature_scheme is not hmac-sha256';
  return undefined;
}

/** The record, checked field by field, or what is wrong with it (a foreign or damaged file). */
export function parseKernelRecord(id: string, value: unknown): KernelRecord | string {
  if (!isObject(value)) return 'not a JSON object';
  if (value.version !== KERNEL_RECORD_VERSION) return `unknown record version ${JSON.stringify(value.version)}`;
  if (value.id !== id) return 'its id does not match its name';
  for (const f of ['kernelName', 'provisioner', 'createdAt', 'owner', 'updatedAt'] as const) if (typeof value[f] !== 'string' || !value[f]) return `${f} is missing`;
  if (!isObject(value.description)) return 'description is not an object';
  const problem = connectionProblem(value.connectionInfo);
  if (problem) return problem;
  if (!isStringMap(value.env) || !isStringMap(value.requestEnv)) return 'env is not a map of strings';
  if (!Number.isInteger(value.restarts) || (value.restarts as number) < 0) return 'restarts is not a count';
  if (value.warmPool !== null && value.warmPool !== 'inherited' && value.warmPool !== 'restricted') return 'warmPool is not a flavour';
  if (value.seed === undefined) value.seed = null;
  if (value.launching === undefined) value.launching = false;
  if (typeof value.launching !== 'boolean') return 'launching is not a boolean';
  if (value.seed !== null && typeof value.seed !== 'string') return 'seed is not a fingerprint';
  return value as unknown as KernelRecord;
}
