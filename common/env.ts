/**
 * Helpers for the per-process `loadConfig(env)` functions: typed env fields and one
 * error that lists every problem at once, so an operator fixes them in one go.
 */
import { z } from 'zod';

export const envInt = (defaultValue: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);

export const envNumber = (defaultValue: number, { min = 0, max = Number.MAX_VALUE } = {}) =>
  z.coerce.number().min(min).max(max).default(defaultValue);

/** A JSON value checked by `schema`; unset or empty is `{}`. `example` shows the shape in the error. */
export const envJson = <T extends z.ZodType>(schema: T, example: string) =>
  z
    .string()
    .optional()
    .transform((value, context): z.infer<T> | Record<string, never> => {
      if (!value) return {};
      try {
        return schema.parse(JSON.parse(value));
      } catch {
        context.addIssue({ code: 'custom', message: `must be JSON like ${example}` });
        return z.NEVER;
      }
    });

export const envBool = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(defaultValue ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const envRedisUrl = () =>
  z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((value) => /^(rediss?|redis\+sentinel):\/\//.test(value), 'must start with redis://, rediss:// or redis+sentinel://');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A check across several variables; gets the non-empty raw values, returns its problems. */
export type CrossCheck = (present: Readonly<Record<string, string>>) => string[];

/**
 * Parses `env` with `shape`, treating empty strings as unset, then runs `crossChecks` on the
 * raw values (so they run even when a field is invalid). Throws one ConfigError listing every
 * problem.
 */
export function parseEnv<T extends z.ZodRawShape>(
  shape: T,
  env: Record<string, string | undefined>,
  crossChecks: readonly CrossCheck[] = [],
): z.infer<z.ZodObject<T>> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value.trim();
  }
  const parsed = z.object(shape).safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  for (const check of crossChecks) problems.push(...check(present));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}
