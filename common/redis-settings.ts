/**
 * Redis settings the "nothing lost" guarantees rest on (docs/reliability.md, "Redis must keep
 * what it is given"): the append-only file on, and no eviction (an evicted task hash is a lost
 * task). Checked at start; a managed Redis that forbids CONFIG is reported as unknown, not as
 * wrong.
 */
import type { Redis } from 'ioredis';

export async function redisSettingWarnings(redis: Redis): Promise<string[]> {
  try {
    const [, appendOnly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const warnings: string[] = [];
    if (appendOnly !== 'yes') warnings.push('Redis runs without appendonly: a restart loses accepted tasks (set appendonly yes)');
    if (policy !== 'noeviction') warnings.push(`Redis maxmemory-policy is ${policy}: under memory pressure it may evict task records (set noeviction)`);
    return warnings;
  } catch {
    return ['could not read the Redis settings (CONFIG GET refused): check appendonly yes and maxmemory-policy noeviction by hand'];
  }
}
