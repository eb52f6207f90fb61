// What the command prints instead of serving: --help, --help-all, --show-config(-json), and the
// commented JSON template --generate-config writes, all from the option table.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { configDirs } from '../kernels/jupyter-paths.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { CONFIG_FILE_NAME, type LoadedConfig } from './config-loader.js';
import { LAUNCH_SETTINGS, OPTIONS, SECTIONS, defaultValue, optionId, type OptionSpec } from './options.js';

function wrap(text: string, indent: string, width = 78): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && (line + ' ' + w).length > width - indent.length) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function typeName(spec: { type: string; choices?: string[] }): string {
  if (spec.choices) return 'Enum';
  return ({ string: 'Unicode', 'nullable-string': 'Unicode', int: 'Int', 'nullable-int': 'Int', number: 'Float', bool: 'Bool', list: 'List', dict: 'Dict', 'count-dict': 'Dict' } as Record<string, string>)[spec.type]!;
}

/** A value the way the original's help shows it (Python literals). */
export function pythonRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k === '' ? 'None' : pythonRepr(k)}: ${pythonRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

function describe(spec: OptionSpec, name: string): string {
  const lines = [`--${name}=<${typeName(spec)}>`, `    Default: ${pythonRepr(defaultValue(spec))}`];
  if (spec.choices) lines.push(`    Choices: (${spec.choices.join(', ')})`);
  lines.push(wrap(`${spec.help} (${spec.env ? `${spec.env} env var` : 'no env var'})`, '    '));
  if (spec.envAlternates?.length) lines.push(wrap(`Also read from ${spec.envAlternates.join(', ')} when ${spec.env} is unset.`, '    '));
  if (spec.alternates?.length) lines.push(wrap(`Also accepted as ${spec.alternates.map((a) => `--${a}`).join(', ')}.`, '    '));
  return lines.join('\n') + '\n';
}

const FLAG_HELP = `--debug
    set log level to DEBUG (maximize logging output)
--generate-config
    generate default config file (JSON) in the Jupyter config dir
-y
    Answer yes to any questions instead of prompting.
--show-config
    show the settings that differ from the defaults, and where each came from
--show-config-json
    show the whole effective configuration as JSON
--config=<Unicode> (KernelGatewayApp.config_file)
    Default: ''
    Full path of a config file (JSON).
`;

export function helpText(all: boolean): string {
  const out: string[] = [
    'Jupyter Kernel Gateway (kernel-gateway)',
    '',
    'Provisions Jupyter kernels and proxies HTTP/Websocket traffic to them.',
    '',
    'Options',
    '-------',
    '',
    wrap('Arguments that take values are convenience aliases to full options, whose names are listed on the help line. See --help-all for every option.', ''),
    '',
    FLAG_HELP,
  ];
  for (const spec of OPTIONS) {
    for (const alias of spec.aliases ?? []) out.push(describe(spec, alias).replace(/^(--\S+)/, `$1 (${optionId(spec)})`));
  }
  if (!all) {
    out.push('To see all available configurables, use `--help-all`.', '');
    return out.join('\n');
  }
  out.push(
    'Class parameters',
    '----------------',
    '',
    wrap("Parameters are set from command-line arguments of the form `--Class.trait=value` or `--Class.trait value`, from KG_* env vars, or from a JSON config file. Booleans are True or False; lists repeat the option or use ['A','B']. Precedence: defaults < env vars < config file < command line.", ''),
    '',
  );
  for (const section of SECTIONS) {
    out.push(`${section} options`, '-'.repeat(section.length + 8));
    if (section === 'KernelGatewayApp') {
      for (const s of LAUNCH_SETTINGS) out.push(`--KernelGatewayApp.${s.name}=<${typeName(s)}>\n    Default: ${s.type === 'bool' ? 'False' : "''"}\n${wrap(s.help, '    ')}\n`);
    }
    for (const spec of OPTIONS.filter((o) => o.section === section)) out.push(describe(spec, optionId(spec)));
  }
  return out.join('\n');
}

/** A commented JSON template: every option present as a `//` line, ready to uncomment. */
export function configTemplate(): string {
  const lines = [
    '// Configuration file for kernel-gateway: JSON, where lines starting with // are comments.',
    '// Uncomment a setting and change its value. Precedence: defaults < KG_* env vars < this file < command line.',
    '{',
  ];
  SECTIONS.forEach((section, i) => {
    lines.push(`  "${section}": {`);
    for (const spec of OPTIONS.filter((o) => o.section === section)) {
      lines.push(wrap(`${spec.help}${spec.env ? ` (${spec.env} env var)` : ''}`, '    // '));
      lines.push(`    // "${spec.name}": ${JSON.stringify(defaultValue(spec))},`);
      lines.push('');
    }
    if (lines[lines.length - 1] === '') lines.pop();
    lines.push(`  }${i < SECTIONS.length - 1 ? ',' : ''}`);
  });
  lines.push('}', '');
  return lines.join('\n');
}

async function confirmOverwrite(path: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`Overwrite ${path} with default config? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function generateConfigFile(answerYes: boolean, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const dir = configDirs(env)[0]!;
  const path = join(dir, CONFIG_FILE_NAME);
  if (existsSync(path) && !answerYes && !(await confirmOverwrite(path))) {
    process.stderr.write(`Config file ${path} exists and was left as it is; pass -y to overwrite it.\n`);
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, configTemplate());
  process.stdout.write(`Writing default config to: ${path}\n`);
  return 0;
}

/** The token is masked: shown config often ends up in CI logs and bug reports. */
function valueAt(config: GatewayConfig, spec: OptionSpec): unknown {
  const v = (config[spec.section] as unknown as Record<string, unknown>)[spec.name];
  return spec.name === 'auth_token' && v ? '[secret]' : v;
}

/** --show-config-json: the whole effective configuration (the token masked). */
export function showConfigJson(loaded: LoadedConfig): string {
  const out: Record<string, Record<string, unknown>> = {};
  for (const spec of OPTIONS) (out[spec.section] ??= {})[spec.name] = valueAt(loaded.config, spec);
  return JSON.stringify(out, null, 2) + '\n';
}

/** --show-config: the settings that differ from the defaults, each with where it came from. */
export function showConfigText(loaded: LoadedConfig): string {
  const out: string[] = [];
  if (loaded.configFiles.length) out.push('Loaded config files:', ...loaded.configFiles.map((f) => `  ${f}`), '');
  for (const section of SECTIONS) {
    const rows = OPTIONS.filter((o) => o.section === section && loaded.sources.has(optionId(o)));
    if (rows.length === 0) continue;
    out.push(section);
    for (const spec of rows) out.push(`  .${spec.name} = ${pythonRepr(valueAt(loaded.config, spec))}  # from ${loaded.sources.get(optionId(spec))}`);
  }
  if (loaded.sources.size === 0) out.push('All options are at their defaults.');
  return out.join('\n') + '\n';
}
