// What an option is: the shape of one entry of the option table (src/cli/options.ts), which the
// server's options and each personality's own (in its options.ts) are declared with.
import type { GatewayConfig } from './gateway-config.js';

export type Section = keyof GatewayConfig;
/** 'count-dict': names mapped to non-negative integers (warm_pool: kernelspec -> kernels). */
export type OptionType = 'string' | 'nullable-string' | 'int' | 'nullable-int' | 'number' | 'bool' | 'list' | 'dict' | 'count-dict';

export interface OptionSpec {
  section: Section;
  name: string;
  type: OptionType;
  /** The KG_* variable read as this option's default (the original's `<name>_env`). */
  env?: string;
  /** Other variables read when `env` is unset: Enterprise Gateway's EG_* names. */
  envAlternates?: string[];
  /** Short command-line names (`--port`); `-` and `_` are interchangeable in them. */
  aliases?: string[];
  /** Other full names the original took: older versions' names and Jupyter base classes'. */
  alternates?: string[];
  /** Allowed values, compared case-insensitively (log_level). */
  choices?: string[];
  /** Extra check of a parsed value: returns what was expected when the value is refused. */
  check?: (value: unknown) => string | undefined;
  help: string;
  /** An option of the original that does nothing here: its default is taken silently, any other
   *  value with a warning giving this reason. */
  inert?: { why: string; isDefault?: (value: string) => boolean };
}

/** Checks shared by option declarations: each returns what was expected when a value is refused. */
export const atLeast = (min: number) => (v: unknown): string | undefined => (v === null || (v as number) >= min ? undefined : `a value of at least ${min}`);
export const portNumber = (v: unknown): string | undefined => ((v as number) >= 0 && (v as number) <= 65535 ? undefined : 'a port number from 0 to 65535');
export const positive = (v: unknown): string | undefined => ((v as number) > 0 ? undefined : 'a number greater than 0');
