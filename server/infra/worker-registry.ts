/** Reads the workers' heartbeats (written by each worker process) and gives them circuit commands. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Channels, publication } from '../../schema/src/channels.ts';
import type { CircuitCommand } from '../../schema/src/circuit.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { circuitCommandHash, workerHeartbeatHash, type WorkerHeartbeat } from '../../schema/src/worker-hashes.ts';

export type { WorkerHeartbeat };

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
      const heartbeat = error ? null : workerHeartbeatHash.decode({ id: ids[i]!, ...(fields as Record<string, string>) });
      if (heartbeat) workers.push(heartbeat);
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
      .hset(keys.circuitCommand(), circuitCommandHash.encode({ id, action, at: Date.now() }))
      .publish(...publication(keys, Channels.circuit, action))
      .exec();
    return id;
  }

  return { aliveSince, commandCircuits };
}
