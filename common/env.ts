/**
 * Helpers for the per-process `loadConfig(env)` functions: typed env fields and one
 * error that lists every problem at once, so an operator fixes them in one go.
 */
import { z } from 'zod';

export const envInt = (defaultValue: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);

export const envNumber = (defaultValue: number, { min = 0, max = Number.MAX_VALUE } = {}) =>
  z.coerce.number().min(min).max(max).default(defaultValue);

export const envBool = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(defaultValue ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const envLogLevel = () =>
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const envRedisUrl = () =>
  z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((value) => /^rediss?:\/\//.test(value), 'must start with redis:// or rediss://');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with `shape`, treating empty strings as unset. Throws one ConfigError
 * listing every invalid variable.
 */
export function parseEnv<T extends z.ZodRawShape>(
  shape: T,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<T>> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value.trim();
  }
  const parsed = z.object(shape).safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}
