/** The root pino logger each process creates once in main.ts and passes down. */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Fields that must never reach a log line at any level. */
const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'openrouterApiKey',
  '*.openrouterApiKey',
];

export function createLogger(options: { name: string; level: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
