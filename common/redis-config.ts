/**
 * The Redis part of every process's configuration, shared by the server and the worker:
 * where Redis is (one URL, or Sentinel nodes plus a master name) and the key prefix.
 *
 * Both ways of naming a Sentinel deployment end as one `redis+sentinel://` URL in the
 * config (`redisUrl`), so the rest of the code parses one string (common/redis-connection.ts).
 */
import { z } from 'zod';
import { envRedisUrl, type CrossCheck } from './env.ts';
import { DEFAULT_REDIS_PREFIX } from '../schema/src/redis-keys.ts';

const prefix = () => z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)');
const hostPort = /^[^\s,:/]+:\d{1,5}$/;

export const redisEnvShape = {
  REDIS_URL: envRedisUrl(),
  /** Sentinel nodes, `host:port,host:port`; with REDIS_SENTINEL_NAME instead of a redis+sentinel:// URL. */
  REDIS_SENTINELS: z
    .string()
    .optional()
    .refine((value) => value === undefined || value.split(',').every((node) => hostPort.test(node.trim())), 'must be host:port[,host:port...]'),
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).optional(),
  /** Password of the Sentinel nodes themselves (`requirepass` in sentinel.conf), when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_KEY_PREFIX: prefix().optional(),
  /** Deprecated alias of REDIS_KEY_PREFIX. */
  REDIS_PREFIX: prefix().optional(),
};

export const redisEnvChecks: CrossCheck[] = [
  (env) => {
    const problems: string[] = [];
    if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name Sentinel monitors)');
    if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_NAME');
    if (env.REDIS_SENTINELS && env.REDIS_URL?.startsWith('redis+sentinel:')) {
      problems.push('REDIS_SENTINELS: give the Sentinel nodes either here or in a redis+sentinel:// REDIS_URL, not both');
    }
    if (env.REDIS_KEY_PREFIX && env.REDIS_PREFIX && env.REDIS_KEY_PREFIX !== env.REDIS_PREFIX) {
      problems.push('REDIS_PREFIX: deprecated alias of REDIS_KEY_PREFIX, and set to another value: remove it');
    }
    return problems;
  },
];

type RedisEnv = z.infer<z.ZodObject<typeof redisEnvShape>>;

/**
 * The Redis settings out of the parsed variables: `redisUrl` (a redis+sentinel:// URL when
 * REDIS_SENTINELS is set: REDIS_URL then contributes only its credentials and database),
 * `redisPrefix`, and `warnings` to log at start (a deprecated name in use).
 */
export function redisConfigFrom(raw: RedisEnv): { redisUrl: string; redisPrefix: string; warnings: string[] } {
  const warnings: string[] = [];
  if (raw.REDIS_PREFIX && !raw.REDIS_KEY_PREFIX) warnings.push('REDIS_PREFIX is deprecated: rename it to REDIS_KEY_PREFIX');
  let redisUrl = raw.REDIS_URL;
  if (raw.REDIS_SENTINELS && raw.REDIS_SENTINEL_NAME) {
    const base = new URL(raw.REDIS_URL);
    const credentials = base.username || base.password ? `${base.username}${base.password ? `:${base.password}` : ''}@` : '';
    const db = base.pathname.length > 1 ? base.pathname : '';
    const nodes = raw.REDIS_SENTINELS.split(',').map((node) => node.trim()).join(',');
    redisUrl = `redis+sentinel://${credentials}${nodes}/${raw.REDIS_SENTINEL_NAME}${db}`;
  }
  if (raw.REDIS_SENTINEL_PASSWORD) {
    redisUrl += `${redisUrl.includes('?') ? '&' : '?'}sentinelPassword=${encodeURIComponent(raw.REDIS_SENTINEL_PASSWORD)}`;
  }
  return { redisUrl, redisPrefix: raw.REDIS_KEY_PREFIX ?? raw.REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX, warnings };
}
