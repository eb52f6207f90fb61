// The REST models of a running kernel and of a kernelspec, as Jupyter Server has them: one JSON
// Schema each, which /api/swagger.json documents, and the TypeScript type the code builds,
// derived from it (json-schema-to-ts, types only), so the two cannot drift apart.
import type { FromSchema } from 'json-schema-to-ts';

export const KERNEL_MODEL = {
  $id: 'Kernel',
  type: 'object',
  description: 'A running kernel.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The kernel id.' },
    name: { type: 'string', description: 'The kernelspec name the kernel was started from.' },
    last_activity: { type: 'string', format: 'date-time', description: 'ISO 8601 UTC timestamp (with a trailing Z) of the last message from or to the kernel.' },
    execution_state: { type: 'string', description: "The kernel's state: 'starting', 'idle', 'busy', 'restarting' or 'dead'." },
    connections: { type: 'integer', description: 'The number of websockets open on the kernel.' },
    location: {
      type: 'object',
      description: 'Kernels not run as local processes only: where the kernel runs (a field of this gateway, not of Jupyter Server).',
      properties: {
        provisioner: { type: 'string', description: "docker-provisioner, docker-swarm-provisioner or distributed-provisioner." },
        host: { type: 'string', description: 'The host its ZeroMQ ports are on (the SSH host for distributed kernels).' },
        container: { type: 'string', description: 'The Docker container (short id).' },
        service: { type: 'string', description: 'The Swarm service name.' },
      },
      required: ['provisioner'],
      additionalProperties: false,
    },
  },
  required: ['id', 'name', 'last_activity', 'execution_state', 'connections'],
  additionalProperties: false,
} as const;

export type KernelModel = FromSchema<typeof KERNEL_MODEL>;

/** The path parameters of a route on one kernel, `.../{id}...`. */
export const KERNEL_ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid', description: 'The kernel id.' } },
  required: ['id'],
} as const;

export const KERNELSPEC_MODEL = {
  $id: 'KernelSpec',
  type: 'object',
  description: 'An installed kernelspec.',
  properties: {
    name: { type: 'string', description: 'The kernelspec name (its directory name).' },
    spec: {
      type: 'object',
      description: 'The contents of its kernel.json.',
      properties: {
        argv: { type: 'array', items: { type: 'string' }, description: 'The command line that starts the kernel; {connection_file} is replaced by the connection file path.' },
        env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Environment variables set for the kernel.' },
        display_name: { type: 'string', description: 'The name shown to users.' },
        language: { type: 'string', description: 'The programming language the kernel runs.' },
        interrupt_mode: { type: 'string', enum: ['signal', 'message'], description: 'How the kernel is interrupted.' },
        metadata: { type: 'object', description: 'Free-form metadata of the kernelspec.' },
      },
      required: ['argv', 'display_name', 'language', 'env', 'interrupt_mode', 'metadata'],
      additionalProperties: false,
    },
    resources: {
      type: 'object',
      additionalProperties: { type: 'string', description: 'URL of the file, under /kernelspecs/{name}/.' },
      description: 'Resource files of the kernelspec (logo-32x32, logo-64x64, kernel.js, ...) and their URLs.',
    },
  },
  required: ['name', 'spec', 'resources'],
  additionalProperties: false,
} as const;

export type KernelSpecModel = FromSchema<typeof KERNELSPEC_MODEL>;

/** One warm-pooled kernelspec as the operator's status document shows it. */
export const WARM_POOL_STATUS_MODEL = {
  type: 'object',
  properties: {
    kernelspec: { type: 'string' },
    target: { type: 'integer' },
    ready: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          pid: { type: 'integer', 'x-nullable': true },
          flavour: { type: 'string', enum: ['inherited', 'restricted'], description: "'inherited': for starts without env (the gateway's environment); 'restricted': for starts with one (PATH and env_process_whitelist)." },
          ready_since: { type: 'string', format: 'date-time' },
        },
        required: ['id', 'pid', 'flavour', 'ready_since'],
        additionalProperties: false,
      },
    },
    starting: { type: 'integer' },
    hits: { type: 'integer' },
    misses: { type: 'integer' },
  },
  required: ['kernelspec', 'target', 'ready', 'starting', 'hits', 'misses'],
  additionalProperties: false,
} as const;

type WarmPoolKernel = FromSchema<(typeof WARM_POOL_STATUS_MODEL)['properties']['ready']['items']>;
/** Swagger 2.0 has no null type: x-nullable says it to readers, this says it to the compiler. */
export type WarmPoolKernelStatus = Omit<WarmPoolKernel, 'pid'> & { pid: number | null };
export type WarmPoolStatus = Omit<FromSchema<typeof WARM_POOL_STATUS_MODEL>, 'ready'> & { ready: WarmPoolKernelStatus[] };
