// --help, --help-all and --generate-config, all written from the option table.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDirs } from '../kernels/jupyter-paths.js';
import { CONFIG_FILE_NAME } from './config-loader.js';
import { OPTIONS, defaultValue, type OptionSpec } from './options.js';

function wrap(text: string, indent: string, width = 78): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if ((line + ' ' + w).trim().length > width - indent.length) {
      lines.push(line.trim());
      line = w;
    } else line += ' ' + w;
  }
  if (line.trim()) lines.push(line.trim());
  return lines.map((l) => indent + l).join('\n');
}

function typeName(spec: OptionSpec): string {
  return { string: 'Unicode', 'nullable-string': 'Unicode', int: 'Int', 'nullable-int': 'Int', number: 'Float', bool: 'Bool', list: 'List', dict: 'Dict' }[spec.type];
}

function showDefault(spec: OptionSpec): string {
  const v = defaultValue(spec);
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  return JSON.stringify(v);
}

function describe(spec: OptionSpec, name: string): string {
  const env = spec.env ? ` (${spec.env} env var)` : '';
  return `--${name}=<${typeName(spec)}>\n    Default: ${showDefault(spec)}\n${wrap(spec.help + env, '    ')}\n`;
}

const FLAGS = `--debug
    set log level to DEBUG (maximize logging output)
--generate-config
    generate default config file
-y
    Answer yes to any questions instead of prompting.
--config=<Unicode>
    Full path of a config file (JSON).
`;

export function helpText(all: boolean): string {
  const out: string[] = ['Jupyter Kernel Gateway (kernel-gateway)', '', 'Provisions Jupyter kernels and proxies HTTP/Websocket traffic to them.', '', 'Options', '-------', '', FLAGS];
  for (const spec of OPTIONS) {
    for (const alias of spec.aliases ?? []) out.push(describe(spec, alias).replace(/^(--\S+)/, `$1 (${spec.section}.${spec.name})`));
  }
  if (!all) {
    out.push('To see all available configurables, use `--help-all`.', '');
    return out.join('\n');
  }
  out.push('Class parameters', '----------------', '', 'Parameters are set from command-line arguments of the form `--Class.trait=value`.', '');
  for (const section of ['KernelGatewayApp', 'JupyterWebsocketPersonality', 'NotebookHTTPPersonality'] as const) {
    out.push(`${section} options`, '-'.repeat(section.length + 8));
    for (const spec of OPTIONS.filter((o) => o.section === section)) out.push(describe(spec, `${section}.${spec.name}`));
  }
  return out.join('\n');
}

/** A commented JSON template: every option present as a `//` line, ready to uncomment. */
export function configTemplate(): string {
  const lines = ['// Configuration file for kernel-gateway (JSON; lines starting with // are comments).', '{'];
  const sections = ['KernelGatewayApp', 'JupyterWebsocketPersonality', 'NotebookHTTPPersonality'] as const;
  sections.forEach((section, i) => {
    lines.push(`  "${section}": {`);
    for (const spec of OPTIONS.filter((o) => o.section === section)) {
      lines.push(`    // ${spec.help}${spec.env ? ` (${spec.env} env var)` : ''}`);
      lines.push(`    // "${spec.name}": ${JSON.stringify(defaultValue(spec))},`);
    }
    lines.push(`  }${i < sections.length - 1 ? ',' : ''}`);
  });
  lines.push('}', '');
  return lines.join('\n');
}

export function generateConfigFile(answerYes: boolean, env: NodeJS.ProcessEnv = process.env): number {
  const dir = configDirs(env)[0]!;
  const path = join(dir, CONFIG_FILE_NAME);
  if (existsSync(path) && !answerYes) {
    process.stderr.write(`Config file ${path} exists; pass -y to overwrite it.\n`);
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, configTemplate());
  process.stdout.write(`Writing default config to: ${path}\n`);
  return 0;
}
