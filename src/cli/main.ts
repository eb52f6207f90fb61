// The kernel-gateway command: reads the config, answers --help/--version/--generate-config/
// --show-config, or starts the gateway and shuts it down cleanly on SIGTERM/SIGINT (SIGHUP is
// ignored). Every kernel ends with the gateway. Exit codes: 0 done, 1 start-up or shutdown
// failure, 2 a bad option.
import { VERSION, startGateway, type Gateway } from '../server/gateway.js';
import { createLogger } from '../server/logging.js';
import { loadPersonalityOptions } from '../server/personality-loader.js';
import { loadConfig, parseArgv, type LoadedConfig, type ParsedArgv } from './config-loader.js';
import { addOptionSection } from './options.js';

import { generateConfigFile, helpText, showConfigJson, showConfigText } from './help.js';
import { StartupError, OptionError } from '../errors.js';

function optionFailure(err: unknown): number {
  if (!(err instanceof OptionError)) throw err;
  process.stderr.write(`kernel-gateway: ${err.message}\n`);
  return 2;
}

/**
 * When --api (flag, KG_API or config file) names a plug-in module that declares options of its
 * own, they join the option table and the command line is read again with them. Whatever fails
 * here is reported where it would be without a plug-in: a bad option by the real read, a
 * module that cannot be loaded by the start-up.
 */
async function withPluginOptions(argv: string[], env: NodeJS.ProcessEnv, parsed: ParsedArgv): Promise<ParsedArgv> {
  let api: string;
  try {
    api = loadConfig(argv, env, parsed).config.KernelGatewayApp.api;
  } catch {
    return parsed;
  }
  const declared = await loadPersonalityOptions(api).catch(() => undefined);
  if (declared === undefined) return parsed;
  addOptionSection(declared);
  return parseArgv(argv);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ParsedArgv;
  try {
    parsed = await withPluginOptions(argv, env, parseArgv(argv));
  } catch (err) {
    return optionFailure(err);
  }
  const { actions } = parsed;
  if (actions.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (actions.help || actions.helpAll) {
    process.stdout.write(helpText(actions.helpAll));
    return 0;
  }
  if (actions.generateConfig) return generateConfigFile(actions.answerYes, env);

  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(argv, env, parsed);
  } catch (err) {
    return optionFailure(err);
  }
  if (actions.showConfig || actions.showConfigJson) {
    process.stdout.write(actions.showConfigJson ? showConfigJson(loaded) : showConfigText(loaded));
    return 0;
  }

  const { config } = loaded;
  const log = createLogger(config.KernelGatewayApp.log_level, process.stderr, config.KernelGatewayApp.log_format);
  for (const w of loaded.warnings) log.warn(w);
  for (const file of loaded.configFiles) log.info(`Read config file ${file}`);

  // Signals are taken from the start: a SIGTERM while kernels prespawn waits for the start-up
  // to finish and then ends them, instead of killing the gateway and orphaning them.
  let stopRequested: string | undefined;
  let onStop: (signal: string) => void = (signal) => (stopRequested = signal);
  process.on('SIGHUP', () => log.info('SIGHUP ignored'));
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));

  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger: log, env });
  } catch (err) {
    if (err instanceof StartupError) {
      log.error(err.message);
      return 1;
    }
    throw err;
  }

  // Last resort: whatever happens, no kernel outlives this process.
  process.on('exit', () => gateway.kernels.killAllNow());
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStop = (signal) => {
      if (stopping) {
        log.warn(`${signal} again: ${gateway.kernels.availabilityMode ? 'stopping now (kernels still launching are killed; the others stay for the next gateway)' : 'killing kernels now'}`);
        gateway.kernels.killAllNow();
        resolve(1);
        return;
      }
      stopping = true;
      log.info(`Received ${signal}, shutting down`);
      gateway.close().then(
        () => resolve(0),
        (err: Error) => {
          log.error(`Shutdown failed: ${err.message}`);
          resolve(1);
        },
      );
    };
    if (stopRequested) onStop(stopRequested);
  });
}
