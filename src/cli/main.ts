// The kernel-gateway command: reads the config, starts the gateway, and shuts it down cleanly
// on SIGTERM/SIGINT (SIGHUP is ignored). Every kernel ends with the gateway.
import { StartupError, VERSION, startGateway, type Gateway } from '../server/gateway.js';
import { createLogger } from '../server/logging.js';
import { loadConfig, type LoadedConfig } from './config-loader.js';
import { OptionError } from './option-values.js';
import { generateConfigFile, helpText } from './help.js';

export async function main(argv: string[]): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(argv);
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`kernel-gateway: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { config, actions } = loaded;
  if (actions.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (actions.help || actions.helpAll) {
    process.stdout.write(helpText(actions.helpAll));
    return 0;
  }
  if (actions.generateConfig) return generateConfigFile(actions.answerYes);

  const log = createLogger(config.KernelGatewayApp.log_level);
  for (const w of loaded.warnings) log.warn(w);
  if (loaded.configFile) log.info(`Read config file ${loaded.configFile}`);

  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger: log });
  } catch (err) {
    if (err instanceof StartupError) {
      log.error(err.message);
      return 1;
    }
    throw err;
  }

  process.on('SIGHUP', () => log.info('SIGHUP ignored'));
  // Last resort: whatever happens, no kernel outlives this process.
  process.on('exit', () => gateway.kernels.killAllNow());
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn(`${signal} again: killing kernels now`);
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
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
