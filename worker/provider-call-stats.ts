/**
 * Records each provider call (outcome and latency) into the cluster-wide histogram hash that
 * the API's /metrics reads, so every worker's calls are counted once without a worker HTTP
 * port. Best effort: a lost sample must never slow or fail a task.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { bucketField } from '../schema/src/task-stats.ts';

export function createProviderCallRecorder({ redis, keys, logger }: { redis: Redis; keys: RedisKeys; logger: Logger }) {
  const key = keys.providerCallStats();
  return ({ status, durationMs }: { status: string; durationMs: number }): void => {
    const ms = Math.max(0, Math.round(durationMs));
    redis
      .multi()
      .hincrby(key, bucketField(status, ms), 1)
      .hincrby(key, `${status}:sum_ms`, ms)
      .hincrby(key, `${status}:count`, 1)
      .exec()
      .catch((error: Error) => logger.debug({ err: error.message }, 'provider call not recorded'));
  };
}
