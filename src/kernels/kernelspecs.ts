// Kernelspec discovery: kernels/<name>/kernel.json under the Jupyter data dirs. A broken spec is
// skipped with a warning; the first dir that has a name wins, as in jupyter_client.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { jupyterDataPath } from './jupyter-paths.js';
import { KernelSpecError } from '../errors.js';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  env: Record<string, string>;
  interrupt_mode: 'signal' | 'message';
  metadata: Record<string, unknown>;
}

export interface KernelSpecEntry {
  name: string;
  resourceDir: string;
  spec: KernelSpec;
}

const NAME_PATTERN = /^[a-z0-9._-]+$/i;

export function parseKernelSpec(text: string, where: string): KernelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KernelSpecError(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KernelSpecError(`${where}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.argv) || o.argv.length === 0 || !o.argv.every((a) => typeof a === 'string')) {
    throw new KernelSpecError(`${where}: "argv" must be a non-empty list of strings`);
  }
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env))) {
    throw new KernelSpecError(`${where}: "env" must be an object`);
  }
  const mode = o.interrupt_mode ?? 'signal';
  if (mode !== 'signal' && mode !== 'message') throw new KernelSpecError(`${where}: "interrupt_mode" must be "signal" or "message"`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.env as Record<string, unknown>) ?? {})) env[k] = String(v);
  return {
    argv: o.argv as string[],
    display_name: typeof o.display_name === 'string' ? o.display_name : '',
    language: typeof o.language === 'string' ? o.language : '',
    env,
    interrupt_mode: mode,
    metadata: typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Record<string, unknown>) : {},
  };
}

export class KernelSpecManager {
  constructor(
    private readonly dataDirs: () => string[] = () => jupyterDataPath(),
    private readonly warn: (msg: string) => void = (m) => console.warn(m),
  ) {}

  /** All valid kernelspecs by (lower-case) name; read afresh each call so new installs show up. */
  findAll(): Map<string, KernelSpecEntry> {
    const found = new Map<string, KernelSpecEntry>();
    for (const dir of this.dataDirs()) {
      const kernelsDir = join(dir, 'kernels');
      let names: string[];
      try {
        names = readdirSync(kernelsDir);
      } catch {
        continue;
      }
      for (const entryName of names.sort()) {
        const name = entryName.toLowerCase();
        if (found.has(name) || !NAME_PATTERN.test(entryName)) continue;
        const resourceDir = join(kernelsDir, entryName);
        const specFile = join(resourceDir, 'kernel.json');
        let text: string;
        try {
          if (!statSync(resourceDir).isDirectory()) continue;
          text = readFileSync(specFile, 'utf8');
        } catch {
          continue;
        }
        try {
          found.set(name, { name, resourceDir, spec: parseKernelSpec(text, specFile) });
        } catch (err) {
          this.warn(`Skipping broken kernelspec: ${(err as Error).message}`);
        }
      }
    }
    return found;
  }

  get(name: string): KernelSpecEntry | undefined {
    return this.findAll().get(name.toLowerCase());
  }

  /** Resource files a client may fetch: kernel.js, kernel.css and logo-* files. */
  resources(entry: KernelSpecEntry): string[] {
    try {
      return readdirSync(entry.resourceDir).filter((f) => f === 'kernel.js' || f === 'kernel.css' || f.startsWith('logo-')).sort();
    } catch {
      return [];
    }
  }

  /** Absolute path of a resource file, or undefined if unknown or outside the spec's dir. */
  resourcePath(name: string, file: string): string | undefined {
    const entry = this.get(name);
    if (!entry) return undefined;
    const root = resolve(entry.resourceDir);
    const path = resolve(root, file);
    if (!path.startsWith(root + sep) || file.includes('\0')) return undefined;
    try {
      return statSync(path).isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  }
}
