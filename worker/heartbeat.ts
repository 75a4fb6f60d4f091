/**
 * Announces this worker in Redis every interval: the server lists workers seen recently.
 * The hash expires on its own when the worker dies, so no one has to clean up after it.
 */
import type { Redis } from 'ioredis';
import { Channels, publication } from '../schema/src/channels.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { workerHeartbeatHash, type WorkerHeartbeat } from '../schema/src/worker-hashes.ts';

export interface HeartbeatOptions {
  redis: Redis;
  keys: RedisKeys;
  workerId: string;
  intervalMs: number;
  concurrency: number;
  activeTasks: () => number;
  /** The circuit breaker's state, and the last operator command applied to it. */
  status: () => Pick<WorkerHeartbeat, 'circuit' | 'circuitCommandId'>;
  /** Runs after each beat (periodic chores that need no timer of their own). */
  onBeat?: () => Promise<void>;
  onError: (error: Error) => void;
}

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export function startHeartbeat(options: HeartbeatOptions) {
  const { redis, keys, workerId } = options;
  const startedAt = Date.now();

  async function beat(): Promise<void> {
    const now = Date.now();
    await redis
      .multi()
      .hset(
        keys.worker(workerId),
        workerHeartbeatHash.encode({
          id: workerId,
          concurrency: options.concurrency,
          activeTasks: options.activeTasks(),
          lastHeartbeatAt: now,
          startedAt,
          pid: process.pid,
          ...options.status(),
        }),
      )
      .pexpire(keys.worker(workerId), options.intervalMs * 3)
      .zadd(keys.workers(), now, workerId)
      .zremrangebyscore(keys.workers(), '-inf', now - FORGET_AFTER_MS)
      .publish(...publication(keys, Channels.workers, workerId))
      .exec();
  }

  const tick = () => void beat().then(() => options.onBeat?.()).catch(options.onError);
  tick();
  const timer = setInterval(tick, options.intervalMs);
  return {
    beat,
    /** Stops beating and removes this worker from the list at once. */
    async dispose(): Promise<void> {
      clearInterval(timer);
      await redis.multi().del(keys.worker(workerId)).zrem(keys.workers(), workerId).exec().catch(() => undefined);
    },
  };
}
