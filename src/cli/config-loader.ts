// Builds the GatewayConfig with the original's precedence: defaults < KG_* env vars < config
// file < command line. Command-line forms: --Section.name=value, --Section.name value, the
// aliases (--port ...), and flags (--debug, --generate-config, -y, --help, --help-all).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDirs } from '../kernels/jupyter-paths.js';
import { defaultConfig, type GatewayConfig } from '../server/gateway-config.js';
import { OPTIONS, findOption, type OptionSpec } from './options.js';
import { OptionError, checkJsonValue, parseOptionText } from './option-values.js';

export const CONFIG_FILE_NAME = 'jupyter_kernel_gateway_config.json';

export interface CliActions {
  help: boolean;
  helpAll: boolean;
  version: boolean;
  generateConfig: boolean;
  answerYes: boolean;
}

export interface LoadedConfig {
  config: GatewayConfig;
  actions: CliActions;
  configFile?: string;
  warnings: string[];
}

interface CliSetting {
  spec: OptionSpec;
  text: string;
}

function set(config: GatewayConfig, spec: OptionSpec, value: unknown): void {
  (config[spec.section] as unknown as Record<string, unknown>)[spec.name] = value;
}

function aliasSpec(alias: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.aliases?.includes(alias));
}

/** Reads argv into option settings and flags; throws OptionError on anything unknown. */
export function parseArgv(argv: string[]): { settings: CliSetting[]; actions: CliActions; configPath?: string } {
  const actions: CliActions = { help: false, helpAll: false, version: false, generateConfig: false, answerYes: false };
  const settings: CliSetting[] = [];
  let configPath: string | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === 'kernelgateway' && i === 0) continue; // `jupyter kernelgateway ...` passes its subcommand on
    if (arg === '-h' || arg === '--help') { actions.help = true; continue; }
    if (arg === '--help-all') { actions.helpAll = true; continue; }
    if (arg === '--version') { actions.version = true; continue; }
    if (arg === '--generate-config') { actions.generateConfig = true; continue; }
    if (arg === '-y' || arg === '--y') { actions.answerYes = true; continue; }
    if (arg === '--debug') { settings.push({ spec: findOption('KernelGatewayApp', 'log_level')!, text: 'DEBUG' }); continue; }
    if (!arg.startsWith('-')) throw new OptionError(`Unexpected argument '${arg}': options look like --KernelGatewayApp.port=8888`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const takeValue = (): string => {
      if (eq >= 0) return body.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined) throw new OptionError(`Option --${key} needs a value`);
      i++;
      return next;
    };
    if (key === 'config' || key === 'KernelGatewayApp.config_file' || key === 'JupyterApp.config_file') {
      configPath = takeValue();
      continue;
    }
    if (key === 'KernelGatewayApp.generate_config') { actions.generateConfig = parseOptionText({ ...findOption('KernelGatewayApp', 'cull_busy')!, name: 'generate_config' }, takeValue()) as boolean; continue; }
    if (key === 'KernelGatewayApp.answer_yes') { actions.answerYes = parseOptionText({ ...findOption('KernelGatewayApp', 'cull_busy')!, name: 'answer_yes' }, takeValue()) as boolean; continue; }
    let spec: OptionSpec | undefined;
    const dot = key.indexOf('.');
    if (dot > 0) {
      const section = key.slice(0, dot) === 'Application' ? 'KernelGatewayApp' : key.slice(0, dot);
      spec = findOption(section, key.slice(dot + 1));
    } else spec = aliasSpec(key);
    if (!spec) throw new OptionError(`Unknown option --${key} (see --help-all for the options)`);
    const text = takeValue();
    const id = `${spec.section}.${spec.name}`;
    if (spec.type !== 'list' && seen.has(id)) throw new OptionError(`Option ${id} was given more than once`);
    seen.add(id);
    settings.push({ spec, text });
  }
  return { settings, actions, configPath };
}

/** JSON with `//` comment lines allowed (the generated template is commented). */
export function parseConfigText(text: string, where: string): Record<string, unknown> {
  const stripped = text.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1');
  let value: unknown;
  try {
    value = JSON.parse(stripped);
  } catch (err) {
    throw new OptionError(`Config file ${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionError(`Config file ${where} must hold a JSON object`);
  return value as Record<string, unknown>;
}

function applyConfigFile(config: GatewayConfig, path: string, warnings: string[]): void {
  const data = parseConfigText(readFileSync(path, 'utf8'), path);
  for (const [sectionName, section] of Object.entries(data)) {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      warnings.push(`Config file ${path}: ${sectionName} is not an object; ignored`);
      continue;
    }
    for (const [name, value] of Object.entries(section as Record<string, unknown>)) {
      const spec = findOption(sectionName, name);
      if (!spec) {
        warnings.push(`Config file ${path}: unknown option ${sectionName}.${name}; ignored`);
        continue;
      }
      set(config, spec, checkJsonValue(spec, value));
    }
  }
}

/** The config files read, lowest priority first (system dirs, then the user's). */
export function configFileCandidates(env: NodeJS.ProcessEnv): string[] {
  return configDirs(env).reverse().map((d) => join(d, CONFIG_FILE_NAME));
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const { settings, actions, configPath } = parseArgv(argv);
  const config = defaultConfig();
  const warnings: string[] = [];
  for (const spec of OPTIONS) {
    const text = spec.env ? env[spec.env] : undefined;
    if (text === undefined) continue;
    try {
      set(config, spec, parseOptionText(spec, text));
    } catch (err) {
      throw new OptionError(`${spec.env}: ${(err as Error).message}`);
    }
  }
  let configFile: string | undefined;
  if (configPath) {
    if (!existsSync(configPath)) throw new OptionError(`Config file ${configPath} does not exist`);
    applyConfigFile(config, configPath, warnings);
    configFile = configPath;
  } else {
    for (const candidate of configFileCandidates(env)) {
      if (existsSync(candidate)) {
        applyConfigFile(config, candidate, warnings);
        configFile = candidate;
      }
    }
  }
  const cliLists = new Map<string, string[]>();
  for (const { spec, text } of settings) {
    const value = parseOptionText(spec, text);
    if (spec.type === 'list') {
      const id = `${spec.section}.${spec.name}`;
      const merged = [...(cliLists.get(id) ?? []), ...(value as string[])];
      cliLists.set(id, merged);
      set(config, spec, merged);
    } else set(config, spec, value);
  }
  return { config, actions, configFile, warnings };
}
