/** The root pino logger each process creates once in main.ts and passes down. */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { LogFormat } from './log-config.ts';

export type { Logger };

/** Fields that must never reach a log line at any level. */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'apiKey',
  '*.apiKey',
  'apiKeys',
  '*.apiKeys',
  'openrouterApiKey',
  '*.openrouterApiKey',
  'password',
  '*.password',
  'sentinelPassword',
  '*.sentinelPassword',
  'token',
  '*.token',
];

export interface CreateLoggerOptions {
  name: string;
  level: string;
  /** `auto` (default): pino-pretty on a terminal outside production, JSON otherwise. */
  format?: LogFormat;
  /** NODE_ENV is production: `auto` never picks pretty output. */
  production?: boolean;
  /** Output stream; default stdout. Tests pass their own. */
  destination?: DestinationStream;
}

const require = createRequire(import.meta.url);

/** pino-pretty is a dev dependency: absent in the production image, where logs are JSON anyway. */
function prettyStream(): DestinationStream | null {
  try {
    const pretty = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
    return pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return null;
  }
}

function wantsPretty(format: LogFormat, production: boolean): boolean {
  if (format === LogFormat.PRETTY) return true;
  if (format === LogFormat.JSON) return false;
  return Boolean(process.stdout.isTTY) && !production;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const settings = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = !options.destination && wantsPretty(options.format ?? LogFormat.AUTO, options.production ?? false) ? prettyStream() : null;
  const destination = options.destination ?? pretty;
  return destination ? pino(settings, destination) : pino(settings);
}
