// Builds the GatewayConfig with the original's precedence: defaults < KG_* env vars < config
// file < command line. Command-line forms: --Section.name=value, --Section.name value, the
// aliases (--port ...), and flags (--debug, --generate-config, -y, --show-config, --help,
// --help-all, --version). Anything unknown, repeated or malformed is an OptionError.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { configDirs } from '../kernels/jupyter-paths.js';
import { defaultConfig, type GatewayConfig } from '../server/gateway-config.js';
import { OPTIONS, SECTIONS, UNSUPPORTED, findAlias, findLaunchSetting, findOption, optionId, type LaunchSettingSpec, type OptionSpec } from './options.js';
import { OptionError, checkJsonValue, parseBoolText, parseOptionText } from './option-values.js';

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

function unknownOption(key: string): OptionError {
  const dot = key.indexOf('.');
  const section = dot > 0 ? key.slice(0, dot) : '';
  if (UNSUPPORTED[key]) return new OptionError(`Option --${key} of the original gateway is not supported: ${UNSUPPORTED[key]}`);
  if (dot > 0 && !SECTIONS.includes(section as never)) {
    return new OptionError(`Unknown option --${key}: kernel-gateway has no ${section} settings (sections: ${SECTIONS.join(', ')}; see --help-all)`);
  }
  return new OptionError(`Unknown option --${key} (see --help-all for the options)`);
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

/** Reads argv into option settings and actions; throws OptionError on anything unknown. */
export function parseArgv(argv: string[]): ParsedArgv {
  const out: ParsedArgv = {
    settings: [],
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
    if (!launch && !spec) throw unknownOption(key);
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
    if (spec!.type !== 'list' && spec!.type !== 'dict') once(optionId(spec!), key);
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

function applyConfigFile(config: GatewayConfig, path: string, sources: Map<string, string>): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionError(`Config file ${path} could not be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const data = parseConfigText(text, path);
  for (const [sectionName, section] of Object.entries(data)) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      throw new OptionError(`Config file ${path}: ${sectionName} must be an object of options, such as {"port": 9000}`);
    }
    for (const [name, value] of Object.entries(section as Record<string, unknown>)) {
      const spec = findOption(sectionName, name);
      if (!spec) {
        const full = `${sectionName}.${name}`;
        if (UNSUPPORTED[full]) throw new OptionError(`Config file ${path}: ${full} of the original gateway is not supported: ${UNSUPPORTED[full]}`);
        throw new OptionError(`Config file ${path}: unknown option ${full} (see --help-all for the options)`);
      }
      try {
        set(config, spec, checkJsonValue(spec, value));
      } catch (err) {
        throw new OptionError(`Config file ${path}: ${(err as Error).message}`);
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
    const text = spec.env ? env[spec.env] : undefined;
    if (text === undefined) continue;
    try {
      set(config, spec, parseOptionText(spec, text));
    } catch (err) {
      throw new OptionError(`${spec.env}: ${(err as Error).message}`);
    }
    sources.set(optionId(spec), `env ${spec.env}`);
  }
  const configFiles = configFilesToRead(parsed, env, warnings);
  for (const file of configFiles) applyConfigFile(config, file, sources);

  // The command line replaces what env and files gave; repeated list/dict options add up.
  const collected = new Map<string, unknown>();
  for (const { spec, text } of parsed.settings) {
    const id = optionId(spec);
    const value = parseOptionText(spec, text);
    let merged = value;
    if (spec.type === 'list') merged = [...((collected.get(id) as string[] | undefined) ?? []), ...(value as string[])];
    else if (spec.type === 'dict') merged = { ...((collected.get(id) as Record<string, string> | undefined) ?? {}), ...(value as Record<string, string>) };
    collected.set(id, merged);
    set(config, spec, merged);
    sources.set(id, 'command line');
  }
  return { config, actions: parsed.actions, configFiles, sources, warnings };
}
