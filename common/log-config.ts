/**
 * The logging part of every process's configuration: LOG_LEVEL, LOG_FORMAT and DEBUG.
 *
 * - LOG_LEVEL wins when set. Otherwise `info`, or `debug` when DEBUG names this service
 *   (`DEBUG=atf`, `atf:*` or `*`).
 * - Other DEBUG namespaces are read by the libraries built on the `debug` package
 *   (`DEBUG=ioredis:*` prints every Redis command with its arguments: never in production).
 * - LOG_FORMAT `json` (one JSON object per line), `pretty` (pino-pretty, a dev dependency), or
 *   `auto` (the default): pretty on a terminal outside production, JSON otherwise.
 */
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LogFormat = { AUTO: 'auto', JSON: 'json', PRETTY: 'pretty' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

export const logEnvShape = {
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  DEBUG: z.string().optional(),
};

type LogEnv = z.infer<z.ZodObject<typeof logEnvShape>>;

/** True when a DEBUG list (comma or space separated, `-x` excludes) enables the `atf` namespace. */
export function debugEnablesService(debug: string | undefined): boolean {
  if (!debug) return false;
  const names = debug.split(/[\s,]+/).filter(Boolean);
  if (names.some((name) => name === '-atf' || name === '-atf:*')) return false;
  return names.some((name) => name === '*' || name === 'atf' || name === 'atf:*');
}

export function logConfigFrom(raw: LogEnv): { logLevel: LogLevel; logFormat: LogFormat } {
  return {
    logLevel: raw.LOG_LEVEL ?? (debugEnablesService(raw.DEBUG) ? 'debug' : 'info'),
    logFormat: raw.LOG_FORMAT,
  };
}
