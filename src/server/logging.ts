// One logger for the whole gateway: pino (Fastify's own), writing readable lines
// `[KernelGateway] 2026-01-01 12:00:00 INFO message` to stderr, like the original's log, or
// with log_format=json one JSON object per line.
import { format } from 'node:util';
import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../kernels/logger.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' };

/** Maps Python-style levels (names or 10..50) to pino's. */
export function pinoLevel(level: string | number): pino.Level {
  const s = String(level).toUpperCase();
  const byName: Record<string, pino.Level> = { '0': 'trace', '10': 'debug', '20': 'info', '30': 'warn', '40': 'error', '50': 'fatal', DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal', FATAL: 'fatal', TRACE: 'trace' };
  return byName[s] ?? 'info';
}

const KERNEL_ID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;

/** One JSON object per line for log pipelines: time, level, message, and kernel_id (the first
 *  kernel id the message names) or the fields a call passed (method, path, status, ...). */
function jsonLogger(level: string | number, destination: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level: pinoLevel(level),
      base: undefined,
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (_label, number) => ({ level: LEVEL_NAMES[number] ?? 'INFO' }) },
      hooks: {
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          const text = typeof first === 'string' ? first : typeof second === 'string' ? second : undefined;
          const id = text === undefined ? undefined : KERNEL_ID.exec(text)?.[0];
          if (id && typeof first === 'string') return method.apply(this, [{ kernel_id: id }, ...args] as Parameters<typeof method>);
          if (id && first && typeof first === 'object' && !('kernel_id' in first)) return method.apply(this, [{ kernel_id: id, ...first }, ...args.slice(1)] as Parameters<typeof method>);
          return method.apply(this, args);
        },
      },
    },
    destination,
  );
}

/** `[KernelGateway] 2026-01-01 12:00:00 INFO message` for one log call's arguments. */
function readableLine(level: number, args: unknown[]): string {
  const [first, ...rest] = args;
  let text: string;
  if (typeof first === 'string') text = format(first, ...rest);
  else if (first instanceof Error) text = typeof rest[0] === 'string' ? format(rest[0], ...rest.slice(1)) : (first.stack ?? first.message);
  else if (first && typeof first === 'object') {
    // (fields, message): the message is what a reader wants; an `err` field stands in for it.
    const err = (first as { err?: { stack?: string; message?: string } }).err;
    text = typeof rest[0] === 'string' ? format(rest[0], ...rest.slice(1)) : (err?.stack ?? err?.message ?? '');
  } else text = format(first, ...rest);
  const time = new Date().toISOString().replace('T', ' ').slice(0, 19);
  return `[KernelGateway] ${time} ${LEVEL_NAMES[level] ?? 'INFO'} ${text}\n`;
}

export function createLogger(level: string | number, destination: NodeJS.WritableStream = process.stderr, logFormat = ''): PinoLogger {
  if (logFormat.trim().toLowerCase() === 'json') return jsonLogger(level, destination);
  // Readable lines are written straight from the call's arguments: pino's JSON line is never
  // made, so nothing has to parse it back. pino still decides which levels are on (children
  // such as Fastify's per-request loggers share the hook).
  return pino(
    {
      level: pinoLevel(level),
      base: undefined,
      hooks: {
        logMethod(args, _method, levelNumber) {
          destination.write(readableLine(levelNumber, args as unknown[]));
        },
      },
    },
    destination,
  );
}

export function kernelLogger(log: PinoLogger): Logger {
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
  };
}
