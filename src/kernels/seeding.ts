// Seeding: code cells of the seed notebook run in each new kernel of the notebook's kernelspec
// before the kernel is handed out. Every cell's outcome is checked, the last one included.
import { executeCode } from './execute.js';
import type { RunningKernel } from './running-kernel.js';
import { KernelSeedError } from '../errors.js';

export interface SeedPlan {
  /** Kernelspec the seed applies to (the notebook's, or force_kernel_name). */
  kernelName: string;
  cells: string[];
}

export async function seedKernel(kernel: RunningKernel, plan: SeedPlan, timeoutMs = 600_000): Promise<void> {
  if (kernel.name !== plan.kernelName.toLowerCase()) return;
  for (const [i, code] of plan.cells.entries()) {
    if (code.trim() === '') continue;
    const outcome = await executeCode(kernel, code, { timeoutMs });
    if (outcome.status !== 'ok') {
      const err = outcome.error;
      throw new KernelSeedError(`Seed cell ${i + 1} failed${err ? `: ${err.ename}: ${err.evalue}` : ` (${outcome.status})`}`);
    }
  }
}
