// One logger for the whole gateway: pino (Fastify's own), writing readable lines
// `[KernelGateway] 2026-01-01 12:00:00 INFO message` to stderr, like the original's log.
import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../kernels/logger.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' };

/** Maps Python-style levels (names or 10..50) to pino's. */
export function pinoLevel(level: string | number): pino.Level {
  const s = String(level).toUpperCase();
  const byName: Record<string, pino.Level> = { '0': 'trace', '10': 'debug', '20': 'info', '30': 'warn', '40': 'error', '50': 'fatal', DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal', FATAL: 'fatal', TRACE: 'trace' };
  return byName[s] ?? 'info';
}

export function createLogger(level: string | number, destination: NodeJS.WritableStream = process.stderr): PinoLogger {
  const stream = {
    write(line: string): void {
      let rec: { level?: number; time?: number; msg?: string; err?: { stack?: string } };
      try {
        rec = JSON.parse(line);
      } catch {
        destination.write(line);
        return;
      }
      const time = new Date(rec.time ?? Date.now()).toISOString().replace('T', ' ').slice(0, 19);
      const text = rec.msg ?? rec.err?.stack ?? '';
      destination.write(`[KernelGateway] ${time} ${LEVEL_NAMES[rec.level ?? 30] ?? 'INFO'} ${text}\n`);
    },
  };
  return pino({ level: pinoLevel(level), base: undefined }, stream);
}

export function kernelLogger(log: PinoLogger): Logger {
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
  };
}
