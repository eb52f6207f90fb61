// The culling rules, on stand-in kernels: idle past the timeout, busy and connected kernels
// spared unless cull_busy / cull_connected, dead kernels culled at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelManager } from '../../src/kernels/kernel-manager.js';
import { defaultConfig } from '../../src/cli/options.js';
import { cullIdleKernels } from '../../src/server/kernel-culler.js';

interface StandIn {
  id: string;
  name: string;
  executionState: string;
  connections: number;
  lastActivity: Date;
  isEnding: boolean;
  provisionerName: string;
}

function manager(kernels: StandIn[]): { km: KernelManager; ended: string[]; culledEvents: string[] } {
  const ended: string[] = [];
  const culledEvents: string[] = [];
  const km = {
    list: () => kernels.filter((k) => !ended.includes(k.id)),
    shutdown: async (id: string) => void ended.push(id),
    emit: (event: string, k: StandIn) => event === 'culled' && culledEvents.push(k.id),
  } as unknown as KernelManager;
  return { km, ended, culledEvents };
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const now = Date.parse('2026-01-01T00:10:00Z');
const ago = (s: number): Date => new Date(now - s * 1000);
const kernel = (id: string, over: Partial<StandIn>): StandIn => ({ id, name: 'python3', executionState: 'idle', connections: 0, lastActivity: ago(0), isEnding: false, provisionerName: 'local-provisioner', ...over });

test('only kernels idle past cull_idle_timeout, not busy, without websockets are culled; dead ones always', async () => {
  const cfg = { ...defaultConfig().KernelGatewayApp, cull_idle_timeout: 60 };
  const kernels = [
    kernel('fresh', { lastActivity: ago(30) }),
    kernel('stale', { lastActivity: ago(90) }),
    kernel('busy', { lastActivity: ago(90), executionState: 'busy' }),
    kernel('watched', { lastActivity: ago(90), connections: 2 }),
    kernel('dead', { lastActivity: ago(1), executionState: 'dead' }),
    kernel('ending', { lastActivity: ago(90), isEnding: true }),
  ];
  const { km, ended, culledEvents } = manager(kernels);
  assert.deepEqual(await cullIdleKernels(km, cfg, quiet, now), ['stale', 'dead']);
  assert.deepEqual(culledEvents, ['stale', 'dead'], "the manager's 'culled' event, for metrics and the dashboard");
  assert.deepEqual(ended, ['stale', 'dead']);
  const lenient = manager(kernels);
  assert.deepEqual(await cullIdleKernels(lenient.km, { ...cfg, cull_busy: true, cull_connected: true }, quiet, now), ['stale', 'busy', 'watched', 'dead']);
});
