// One kernel and one connected client per variant (system x format), for the figures that
// drive a single kernel at a time (execute round trip, output streaming). A server that does
// not agree to a format (Jupyter Server 1.23 and v1) is reported, not measured.
import type { KernelClient } from './clients.js';
import { kernelPid } from './procs.js';
import { variantName, type BenchContext, type Variant } from './report.js';
import type { KernelHandle } from './systems.js';

export interface OpenVariant extends Variant {
  kernel: KernelHandle;
  client: KernelClient;
}

export interface OpenedVariants {
  open: OpenVariant[];
  /** Why a variant is missing, e.g. "Jupyter Server v1: the server answered in JSON". */
  missing: string[];
  close(): Promise<void>;
}

export async function openVariants(ctx: BenchContext): Promise<OpenedVariants> {
  const open: OpenVariant[] = [];
  const missing: string[] = [];
  for (const s of ctx.systems) {
    for (const format of s.formats) {
      let kernel: KernelHandle | undefined;
      try {
        kernel = await s.startKernelRetrying();
        const client = await s.connect(kernel, format);
        await client.kernelInfo();
        kernel.pid ??= kernelPid(kernel.id);
        if (client.format !== format) {
          missing.push(`${s.label} ${s.version} ${format}: not offered (the server answered in ${client.format}), not measured`);
          await client.close();
          await s.shutdownKernel(kernel);
          continue;
        }
        open.push({ sys: s, format, name: variantName(s, format), kernel, client });
      } catch (err) {
        missing.push(`${variantName(s, format)}: could not start (${(err as Error).message})`);
        if (kernel) await s.shutdownKernel(kernel).catch(() => undefined);
      }
    }
  }
  return {
    open,
    missing,
    async close() {
      for (const v of open) {
        await v.client.close();
        await v.sys.shutdownKernel(v.kernel).catch((err: Error) => ctx.log(`[bench] ${v.name}: shutdown failed: ${err.message}`));
      }
    },
  };
}

/** The reference rows: Jupyter Server's JSON websocket and the direct limit. */
export function references<T extends Variant>(variants: T[]): { js?: T; limit?: T } {
  return {
    js: variants.find((v) => v.sys.key === 'jupyter' && v.format === 'json'),
    limit: variants.find((v) => v.sys.key === 'direct'),
  };
}
