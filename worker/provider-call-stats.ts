/**
 * Records each provider call (outcome and latency) into the cluster-wide histogram hash that
 * the API's /metrics reads, so every worker's calls are counted once without a worker HTTP
 * port. Samples are summed in memory and written once per `flushMs` (one pipeline, not one
 * round trip per task). Best effort: a lost sample must never slow or fail a task.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { bucketField } from '../schema/src/task-stats.ts';

export interface ProviderCallRecorder {
  record(call: { status: string; durationMs: number }): void;
  /** Writes what is pending now (at shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createProviderCallRecorder(options: { redis: Redis; keys: RedisKeys; logger: Logger; flushMs?: number }): ProviderCallRecorder {
  const { redis, keys, logger } = options;
  const key = keys.providerCallStats();
  let pending = new Map<string, number>();
  const add = (field: string, by: number) => pending.set(field, (pending.get(field) ?? 0) + by);

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const pipeline = redis.pipeline();
    for (const [field, by] of batch) pipeline.hincrby(key, field, by);
    await pipeline.exec().catch((error: Error) => logger.debug({ err: error.message }, 'provider calls not recorded'));
  }

  const timer = setInterval(() => void flush(), options.flushMs ?? 1000);
  timer.unref();

  return {
    record({ status, durationMs }) {
      const ms = Math.max(0, Math.round(durationMs));
      add(bucketField(status, ms), 1);
      add(`${status}:sum_ms`, ms);
      add(`${status}:count`, 1);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
