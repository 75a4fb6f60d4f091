/** Reads the workers' heartbeats (written by each worker process) and gives them circuit commands. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CircuitState, type CircuitCommand, type CircuitSnapshot } from '../../schema/src/circuit.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';

export interface WorkerHeartbeat {
  id: string;
  lastHeartbeatAt: number;
  concurrency: number;
  activeTasks: number;
  circuit: CircuitSnapshot;
  /** The id of the last operator circuit command this worker applied. */
  circuitCommandId: string | null;
}

export type WorkerRegistry = ReturnType<typeof createWorkerRegistry>;

const optionalNumber = (value: string | undefined) => (value ? Number(value) : null);

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
        circuit: {
          state: (hash.circuitState as CircuitState | undefined) ?? CircuitState.CLOSED,
          failures: Number(hash.circuitFailures ?? 0),
          openedAt: optionalNumber(hash.circuitOpenedAt),
          halfOpenAt: optionalNumber(hash.circuitHalfOpenAt),
        },
        circuitCommandId: hash.circuitCommandId || null,
      });
    });
    return workers;
  }

  /**
   * Records a command for every worker's breaker under a new id, and hints them to read it
   * now. The hash is the truth (a worker that missed the hint finds it at its next beat); a
   * fresh random id, not a counter, so a Redis that lost the hash cannot make a new command
   * look old.
   */
  async function commandCircuits(action: CircuitCommand): Promise<string> {
    const id = randomUUID();
    await redis
      .multi()
      .hset(keys.circuitCommand(), 'id', id, 'action', action, 'at', Date.now())
      .publish(keys.circuitChannel(), action)
      .exec();
    return id;
  }

  return { aliveSince, commandCircuits };
}
