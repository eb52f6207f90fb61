// Builds the GatewayConfig with the original's precedence: defaults < KG_* env vars < config
// file < command line. Command-line forms: --Section.name=value, --Section.name value, the
// aliases (--port ...), and flags (--debug, --generate-config, -y, --show-config, --help,
// --help-all, --version). An unknown option is a warning naming the closest known one, as
// traitlets does; a repeated or malformed one is an OptionError.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { configDirs } from '../kernels/jupyter-paths.js';
import { type GatewayConfig } from '../config/gateway-config.js';
import { defaultConfig } from './options.js';
import { OPTIONS, SECTIONS, UNSUPPORTED, defaultValue, findAlias, findLaunchSetting, findOption, optionId, type LaunchSettingSpec, type OptionSpec } from './options.js';
import { checkJsonValue, parseBoolText, parseOptionText } from './option-values.js';
import { OptionError } from '../errors.js';

export const CONFIG_FILE_NAME = 'jupyter_kernel_gateway_config.json';

export interface CliActions {
  help: boolean;
  helpAll: boolean;
  version: boolean;
  generateConfig: boolean;
  answerYes: boolean;
  showConfig: boolean;
  showConfigJson: boolean;
}

export interface ParsedArgv {
  settings: CliSetting[];
  /** Unknown options met on the command line: start-up carries on. */
  warnings: string[];
  actions: CliActions;
  configFile?: string;
  configFileName?: string;
}

export interface CliSetting {
  spec: OptionSpec;
  text: string;
}

export interface LoadedConfig {
  config: GatewayConfig;
  actions: CliActions;
  /** Config files read, in the order applied. */
  configFiles: string[];
  /** Where each option that is not at its default came from. */
  sources: Map<string, string>;
  warnings: string[];
}

function set(config: GatewayConfig, spec: OptionSpec, value: unknown): void {
  (config[spec.section] as unknown as Record<string, unknown>)[spec.name] = value;
}

const FLAGS: Record<string, (a: CliActions, settings: CliSetting[]) => void> = {
  h: (a) => (a.help = true),
  help: (a) => (a.help = true),
  'help-all': (a) => (a.helpAll = true),
  version: (a) => (a.version = true),
  'generate-config': (a) => (a.generateConfig = true),
  y: (a) => (a.answerYes = true),
  'show-config': (a) => (a.showConfig = true),
  'show-config-json': (a) => (a.showConfigJson = true),
  debug: (_a, settings) => settings.push({ spec: findOption('KernelGatewayApp', 'log_level')!, text: 'DEBUG' }),
};

function looksLikeOption(arg: string | undefined): boolean {
  return arg !== undefined && /^--?[A-Za-z]/.test(arg);
}

/** The warning for an option we do not know (or one of the original's that cannot work here). */
function unknownOption(key: string, where = ''): string {
  const dot = key.indexOf('.');
  const section = dot > 0 ? key.slice(0, dot) : '';
  const shown = where ? `${key} ${where}` : `--${key}`;
  if (UNSUPPORTED[key]) return `Ignoring option ${shown} of the original gateway: it has no effect here (${UNSUPPORTED[key]})`;
  const guess = closestOption(key);
  const hint = guess ? `; did you mean ${where ? guess : `--${guess}`}?` : ' (see --help-all for the options)';
  if (dot > 0 && !SECTIONS.includes(section as never)) return `Ignoring unknown option ${shown}: kernel-gateway has no ${section} settings${hint}`;
  return `Ignoring unknown option ${shown}${hint}`;
}

/** The known option name nearest to `key` by edit distance, if it is near enough to be a typo. */
function closestOption(key: string): string | undefined {
  const names = key.includes('.') ? OPTIONS.flatMap((o) => [optionId(o), ...(o.alternates ?? [])]) : OPTIONS.flatMap((o) => [...(o.aliases ?? []), o.name]);
  const target = key.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(target, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  // A different section with the same option name (ServerApp.port) is a near miss too.
  const bare = key.slice(key.indexOf('.') + 1).toLowerCase();
  const sameName = key.includes('.') ? OPTIONS.find((o) => o.name.toLowerCase() === bare) : undefined;
  if (best.distance <= Math.max(2, Math.floor(key.length / 5))) return best.name;
  return sameName ? optionId(sameName) : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function setLaunch(out: ParsedArgv, spec: LaunchSettingSpec, text: string): void {
  if (spec.type === 'bool') {
    const b = parseBoolText(text);
    if (b === undefined) throw new OptionError(`KernelGatewayApp.${spec.name}: expected True or False, got '${text}'`);
    const key = ({ answer_yes: 'answerYes', generate_config: 'generateConfig', show_config: 'showConfig', show_config_json: 'showConfigJson' } as const)[spec.name as 'answer_yes'];
    out.actions[key] = b;
  } else if (spec.name === 'config_file') out.configFile = text;
  else out.configFileName = text;
}

/** Reads argv into option settings and actions; unknown options become warnings, malformed ones
 *  an OptionError. */
export function parseArgv(argv: string[]): ParsedArgv {
  const out: ParsedArgv = {
    settings: [],
    warnings: [],
    actions: { help: false, helpAll: false, version: false, generateConfig: false, answerYes: false, showConfig: false, showConfigJson: false },
  };
  const seen = new Set<string>();
  const once = (id: string, key: string): void => {
    if (seen.has(id)) throw new OptionError(`Option ${id} was given more than once (--${key})`);
    seen.add(id);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === 'kernelgateway' && i === 0) continue; // `jupyter kernelgateway ...` passes its subcommand on
    if (!looksLikeOption(arg)) throw new OptionError(`Unexpected argument '${arg}': options look like --KernelGatewayApp.port=8888 (see --help)`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const flag = FLAGS[key.replace(/_/g, '-')];
    if (flag && !key.includes('.')) {
      if (eq >= 0) throw new OptionError(`Flag --${key} takes no value`);
      flag(out.actions, out.settings);
      continue;
    }
    const dot = key.indexOf('.');
    const section = dot > 0 ? key.slice(0, dot) : '';
    const name = dot > 0 ? key.slice(dot + 1) : key;
    const launch = dot > 0 ? findLaunchSetting(section, name) : findLaunchSetting('', '', key);
    const spec = launch ? undefined : dot > 0 ? findOption(section, name) : findAlias(key);
    if (!launch && !spec) {
      out.warnings.push(unknownOption(key));
      // Its value, if given as the next argument, goes with it.
      if (eq < 0 && argv[i + 1] !== undefined && !looksLikeOption(argv[i + 1])) i++;
      continue;
    }
    const isBool = (launch ?? spec)!.type === 'bool';
    let text: string;
    if (eq >= 0) text = body.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !looksLikeOption(argv[i + 1])) text = argv[++i]!;
    else if (isBool) text = 'True'; // `--JupyterWebsocketPersonality.list_kernels` alone means True
    else throw new OptionError(`Option --${key} needs a value (--${key}=<value>)`);
    if (launch) {
      once(`KernelGatewayApp.${launch.name}`, key);
      setLaunch(out, launch, text);
      continue;
    }
    if (spec!.type !== 'list' && spec!.type !== 'dict' && spec!.type !== 'count-dict') once(optionId(spec!), key);
    out.settings.push({ spec: spec!, text });
  }
  return out;
}

/** Line and column (both 1-based) of a character offset in text. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line} column ${column}`;
}

/**
 * JSON with comments (`//` and `/* *\/`, as in the commented generated template) and trailing
 * commas allowed. jsonc-parser tokenises the text, so strings holding `//`, `/*`, `]` or `,}`
 * are kept as they are.
 */
export function parseConfigText(text: string, where: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
    throw new OptionError(`Config file ${where} is not valid JSON: ${printParseErrorCode(first.error)} at ${position(text, first.offset)}${more}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionError(`Config file ${where} must hold a JSON object such as {"KernelGatewayApp": {"port": 9000}}`);
  return value as Record<string, unknown>;
}

function applyConfigFile(config: GatewayConfig, path: string, sources: Map<string, string>, warnings: string[]): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionError(`Config file ${path} could not be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const data = parseConfigText(text, path);
  for (const [sectionName, section] of Object.entries(data)) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      throw new OptionError(`Config file ${path}: ${sectionName} must be an object of options, such as {"port": 9000}`);
    }
    for (const [name, value] of Object.entries(section as Record<string, unknown>)) {
      const spec = findOption(sectionName, name);
      if (!spec) {
        warnings.push(unknownOption(`${sectionName}.${name}`, `in config file ${path}`));
        continue;
      }
      try {
        set(config, spec, checkJsonValue(spec, value));
      } catch (err) {
        throw new OptionError(`Config file ${path}: ${(err as Error).message}`, { cause: err });
      }
      sources.set(optionId(spec), `config file ${path}`);
    }
  }
}

/** `name`, `name.json` or `name.py` -> the JSON file to read and the Python one that is not read. */
function configPair(pathOrName: string): { json: string; py: string } {
  const ext = extname(pathOrName);
  const base = ext === '.json' || ext === '.py' ? pathOrName.slice(0, -ext.length) : pathOrName;
  return { json: `${base}.json`, py: `${base}.py` };
}

const PY_NOT_READ = 'Python config files are not read; write the same settings as JSON (kernel-gateway --generate-config writes a template)';

/** The config files to read, lowest priority first (system dirs, then the user's), and warnings. */
export function configFilesToRead(parsed: Pick<ParsedArgv, 'configFile' | 'configFileName'>, env: NodeJS.ProcessEnv, warnings: string[]): string[] {
  if (parsed.configFile !== undefined && parsed.configFile !== '') {
    const given = parsed.configFile;
    if (existsSync(given) && statSync(given).isFile() && extname(given) !== '.py') return [given];
    const { json, py } = configPair(given);
    if (existsSync(json)) {
      if (existsSync(py)) warnings.push(`${py} is not read: ${PY_NOT_READ}`);
      return [json];
    }
    if (existsSync(py)) throw new OptionError(`Config file ${py}: ${PY_NOT_READ}`);
    throw new OptionError(`Config file ${given} does not exist`);
  }
  const name = parsed.configFileName || CONFIG_FILE_NAME;
  const files: string[] = [];
  for (const dir of configDirs(env).reverse()) {
    const { json, py } = configPair(join(dir, name));
    if (existsSync(py)) warnings.push(`${py} is not read: ${PY_NOT_READ}`);
    if (existsSync(json)) files.push(json);
  }
  return files;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, parsed: ParsedArgv = parseArgv(argv)): LoadedConfig {
  const config = defaultConfig();
  const sources = new Map<string, string>();
  const warnings: string[] = [];
  for (const spec of OPTIONS) {
    const name = [spec.env, ...(spec.envAlternates ?? [])].find((n) => n !== undefined && env[n] !== undefined);
    if (name === undefined) continue;
    try {
      set(config, spec, parseOptionText(spec, env[name]!));
    } catch (err) {
      throw new OptionError(`${name}: ${(err as Error).message}`, { cause: err });
    }
    sources.set(optionId(spec), `env ${name}`);
  }
  const configFiles = configFilesToRead(parsed, env, warnings);
  for (const file of configFiles) applyConfigFile(config, file, sources, warnings);

  // The command line replaces what env and files gave; repeated list/dict options add up.
  const collected = new Map<string, unknown>();
  for (const { spec, text } of parsed.settings) {
    const id = optionId(spec);
    const value = parseOptionText(spec, text);
    let merged = value;
    if (spec.type === 'list') merged = [...((collected.get(id) as string[] | undefined) ?? []), ...(value as string[])];
    else if (spec.type === 'dict' || spec.type === 'count-dict') merged = { ...((collected.get(id) as Record<string, unknown> | undefined) ?? {}), ...(value as Record<string, unknown>) };
    collected.set(id, merged);
    set(config, spec, merged);
    sources.set(id, 'command line');
  }
  warnings.push(...parsed.warnings);
  for (const spec of OPTIONS) {
    if (!spec.inert) continue;
    const value = String((config[spec.section] as unknown as Record<string, unknown>)[spec.name]);
    const isDefault = value === String(defaultValue(spec)) || spec.inert.isDefault?.(value);
    if (!isDefault) warnings.push(`${optionId(spec)}=${value} has no effect here: ${spec.inert.why}`);
  }
  return { config, actions: parsed.actions, configFiles, sources, warnings };
}
