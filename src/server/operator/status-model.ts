// The document behind the dashboard (/api/gateway/status and its server-sent events): its JSON
// Schema, documented in /api/swagger.json, and the types the status board builds, derived from
// it (json-schema-to-ts, types only; the dashboard's client imports these types too).
import type { FromSchema } from 'json-schema-to-ts';
import { WARM_POOL_STATUS_MODEL, type WarmPoolStatus } from '../../kernels/rest-models.js';

const NULL_ELSEWHERE = 'Local kernels only; null otherwise.';

export const KERNEL_STATUS_MODEL = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    execution_state: { type: 'string' },
    connections: { type: 'integer' },
    last_activity: { type: 'string', format: 'date-time' },
    started: { type: 'string', format: 'date-time' },
    uptime_seconds: { type: 'number' },
    restarts: { type: 'integer' },
    pid: { type: 'integer', 'x-nullable': true, description: NULL_ELSEWHERE },
    memory_bytes: { type: 'integer', 'x-nullable': true, description: `The kernel process's resident memory. ${NULL_ELSEWHERE}` },
    cpu_percent: { type: 'number', 'x-nullable': true, description: "The kernel process's CPU use over the last 2 s (local kernels; null until measured and elsewhere)." },
  },
  required: ['id', 'name', 'execution_state', 'connections', 'last_activity', 'started', 'uptime_seconds', 'restarts', 'pid', 'memory_bytes', 'cpu_percent'],
  additionalProperties: false,
} as const;

export const GATEWAY_EVENT_MODEL = {
  type: 'object',
  properties: {
    time: { type: 'string', format: 'date-time' },
    type: { type: 'string', enum: ['start', 'start-failure', 'restart', 'death', 'cull', 'shutdown', 'refused'] },
    message: { type: 'string' },
    kernel_id: { type: 'string' },
    kernelspec: { type: 'string' },
  },
  required: ['time', 'type', 'message'],
  additionalProperties: false,
} as const;

export const STATUS_MODEL = {
  type: 'object',
  description: 'The gateway and its kernels, as the dashboard shows them.',
  properties: {
    version: { type: 'string' },
    started: { type: 'string', format: 'date-time' },
    uptime_seconds: { type: 'number' },
    process: {
      type: 'object',
      properties: { pid: { type: 'integer' }, rss_bytes: { type: 'integer' }, heap_used_bytes: { type: 'integer' }, cpu_percent: { type: 'number' } },
      required: ['pid', 'rss_bytes', 'heap_used_bytes', 'cpu_percent'],
      additionalProperties: false,
    },
    rates: {
      type: 'object',
      properties: { requests_per_second: { type: 'number' }, messages_per_second: { type: 'number' }, errors_per_second: { type: 'number' } },
      required: ['requests_per_second', 'messages_per_second', 'errors_per_second'],
      additionalProperties: false,
    },
    totals: {
      type: 'object',
      properties: { requests: { type: 'integer' }, errors: { type: 'integer' }, messages: { type: 'integer' } },
      required: ['requests', 'errors', 'messages'],
      additionalProperties: false,
    },
    kernels: { type: 'array', items: KERNEL_STATUS_MODEL },
    warm_pool: {
      type: 'array',
      description: 'Per warm-pooled kernelspec (warm_pool): the kernels ready to be handed out (not yet in kernels), launches under way, and the starts served (hits) or started cold (misses).',
      items: WARM_POOL_STATUS_MODEL,
    },
    events: { type: 'array', description: 'The last 100 events and the last 20 refused requests, oldest first.', items: GATEWAY_EVENT_MODEL },
  },
  required: ['version', 'started', 'uptime_seconds', 'process', 'rates', 'totals', 'kernels', 'warm_pool', 'events'],
  additionalProperties: false,
} as const;

/** Swagger 2.0 has no null type: x-nullable says it to readers, this says it to the compiler. */
type Nullable<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };

export type KernelStatus = Nullable<FromSchema<typeof KERNEL_STATUS_MODEL>, 'pid' | 'memory_bytes' | 'cpu_percent'>;
export type GatewayEvent = FromSchema<typeof GATEWAY_EVENT_MODEL>;
export type GatewayEventType = GatewayEvent['type'];
export type GatewayStatus = Omit<FromSchema<typeof STATUS_MODEL>, 'kernels' | 'warm_pool'> & { kernels: KernelStatus[]; warm_pool: WarmPoolStatus[] };
