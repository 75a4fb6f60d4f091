/** Reads the workers' heartbeats (written by each worker process). */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';

export interface WorkerHeartbeat {
  id: string;
  lastHeartbeatAt: number;
  concurrency: number;
  activeTasks: number;
}

export type WorkerRegistry = ReturnType<typeof createWorkerRegistry>;

export function createWorkerRegistry(options: { redis: Redis; keys: RedisKeys }) {
  const { redis, keys } = options;

  /** Workers whose last heartbeat is newer than `sinceMs` (epoch ms), newest first. */
  async function aliveSince(sinceMs: number): Promise<WorkerHeartbeat[]> {
    const ids = await redis.zrevrangebyscore(keys.workers(), '+inf', sinceMs);
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.worker(id));
    const results = (await pipeline.exec()) ?? [];
    const workers: WorkerHeartbeat[] = [];
    results.forEach(([error, fields], i) => {
      const hash = fields as Record<string, string> | null;
      if (error || !hash || !hash.lastHeartbeatAt) return;
      workers.push({
        id: ids[i]!,
        lastHeartbeatAt: Number(hash.lastHeartbeatAt),
        concurrency: Number(hash.concurrency ?? 0),
        activeTasks: Number(hash.activeTasks ?? 0),
      });
    });
    return workers;
  }

  return { aliveSince };
}
