// Structured JSON logging: one event per line on stderr, never a secret.
import { type Logger, pino } from 'pino';

export type { Logger };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Fields that must never reach a log line, wherever they sit in an event. */
const REDACTED_PATHS = ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'];

export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name ?? 'mlcost',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
