// Culling idle kernels: Jupyter Server's MappingKernelManager options (cull_idle_timeout,
// cull_interval, cull_connected, cull_busy), which the original gateway inherits from it.
// Every cull_interval seconds, a kernel idle for more than cull_idle_timeout seconds is shut
// down, unless it has open websockets (and cull_connected is off) or is busy (and cull_busy is
// off). A dead kernel is culled at once.
import type { KernelManager } from '../kernels/kernel-manager.js';
import * as metrics from '../observability/metrics.js';
import type { Logger } from '../kernels/logger.js';
import type { KernelGatewayAppConfig } from '../config/gateway-config.js';

export interface KernelCuller {
  stop(): void;
}

/** One pass over the kernels; returns the ids shut down. */
export async function cullIdleKernels(kernels: KernelManager, cfg: KernelGatewayAppConfig, log: Logger, now = Date.now()): Promise<string[]> {
  const culled: string[] = [];
  for (const kernel of kernels.list()) {
    if (kernel.isEnding) continue;
    const idleSeconds = (now - kernel.lastActivity.getTime()) / 1000;
    const dead = kernel.executionState === 'dead';
    const idleEnough = idleSeconds > cfg.cull_idle_timeout;
    const busyOk = cfg.cull_busy || kernel.executionState !== 'busy';
    const connectedOk = cfg.cull_connected || kernel.connections === 0;
    if (!dead && !(idleEnough && busyOk && connectedOk)) continue;
    log.warn(
      dead
        ? `Culling dead kernel '${kernel.name}' (${kernel.id})`
        : `Culling '${kernel.executionState}' kernel '${kernel.name}' (${kernel.id}) with ${kernel.connections} connections due to ${Math.floor(idleSeconds)} seconds of inactivity.`,
    );
    culled.push(kernel.id);
    metrics.kernelCulls.inc({ kernelspec: kernel.name, provisioner: kernel.provisionerName });
    kernels.emit('culled', kernel);
    await kernels.shutdown(kernel.id, dead).catch((err: Error) => log.error(`Culling kernel ${kernel.id} failed: ${err.message}`));
  }
  return culled;
}

/** Starts culling when cull_idle_timeout > 0; stop() ends it (on gateway shutdown). */
export function startKernelCuller(kernels: KernelManager, cfg: KernelGatewayAppConfig, log: Logger): KernelCuller {
  if (!(cfg.cull_idle_timeout > 0)) return { stop: () => undefined };
  log.info(`Culling kernels idle for more than ${cfg.cull_idle_timeout} s, checking every ${cfg.cull_interval} s (cull_connected=${cfg.cull_connected}, cull_busy=${cfg.cull_busy})`);
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow shutdown must not overlap the next pass
    running = true;
    void cullIdleKernels(kernels, cfg, log).finally(() => (running = false));
  }, cfg.cull_interval * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
