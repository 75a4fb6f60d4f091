/**
 * Finds work that no queue job will ever deliver again and queues it: ACTIVE tasks whose
 * lease ran out (their worker died, or lost Redis long enough to give up), PENDING tasks
 * whose job vanished (a submit that stored the task but lost its enqueue), and SCHEDULED
 * tasks whose delayed job is overdue and gone. Every worker runs one; they cannot collide,
 * because each job id is derived from the task's own state, so a second enqueue is a no-op,
 * and the claim script decides who runs the task.
 *
 * It also clears bee-queue "ghosts": ids left in a queue's active list after their job was
 * deleted. bee-queue makes them when a stall check re-queues a job that is still running (as
 * happens while Redis is away) and the first run then finishes: the id is back in `waiting`
 * with no job behind it, and every worker that pops it just leaves it in `active` forever.
 *
 * And it applies retention: COMPLETED and CANCELLED tasks are deleted, with their events,
 * TASK_RETENTION_HOURS after they finished (DLQ tasks wait for an operator).
 *
 * It reads only the non-terminal state indexes, the active lists and the oldest finished
 * tasks, a bounded number per pass.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { QueueName, type RedisKeys } from '../schema/src/redis-keys.ts';
import { expectedJob } from '../schema/src/job-ids.ts';
import { TaskState } from '../schema/src/task.ts';

export interface SweeperOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  intervalMs: number;
  /** Tasks looked at per state and pass. */
  batchSize: number;
  /** COMPLETED and CANCELLED tasks are deleted this long after they finished. */
  retentionMs: number;
  /** Deletes one task everywhere. */
  deleteTask(taskId: string): Promise<boolean>;
  /** Puts a job for the task on a queue, now; a no-op when a job with that id exists. */
  enqueue(taskId: string, queue: QueueName, jobId: string): Promise<void>;
  /** Told how many tasks each pass re-queued (for metrics). */
  onRequeued?(count: number): void;
}

export function startSweeper(options: SweeperOptions) {
  const { redis, keys, logger } = options;

  async function sweep(): Promise<number> {
    const now = Number((await redis.time())[0]) * 1000;
    const stale = now - options.intervalMs;
    let requeued = 0;
    for (const state of [TaskState.ACTIVE, TaskState.PENDING, TaskState.SCHEDULED]) {
      const ids = await redis.zrange(keys.tasksInState(state), 0, options.batchSize - 1);
      if (ids.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.task(id), 'state', 'attempt', 'version', 'updatedAt', 'leaseExpiresAt', 'nextAttemptAt', 'reopens');
      const rows = (await pipeline.exec()) ?? [];
      for (const [index, [error, values]] of rows.entries()) {
        if (error) throw error;
        const [current, attempt, version, updatedAt, leaseExpiresAt, nextAttemptAt, reopens] = values as (string | null)[];
        const id = ids[index]!;
        if (current !== state) continue; // moved on since the index read
        const due =
          state === TaskState.ACTIVE
            ? Number(leaseExpiresAt ?? 0) < now
            : state === TaskState.SCHEDULED
              ? Number(nextAttemptAt ?? 0) < stale
              : Number(updatedAt ?? now) < stale;
        if (!due) continue;
        const job = expectedJob({ id, state, attempt: Number(attempt), version: Number(version), reopens: Number(reopens ?? 0) });
        if (!job) continue;
        if (state !== TaskState.ACTIVE && (await redis.hexists(keys.beeQueueKey(job.queue, 'jobs'), job.jobId))) continue;
        await options.enqueue(id, job.queue, job.jobId);
        requeued += 1;
        logger.warn({ taskId: id, state, jobId: job.jobId }, 'sweeper re-queued a task');
      }
    }
    for (const queue of [QueueName.PRIMARY, QueueName.RETRY]) await clearGhosts(queue);
    await expireFinished(now);
    options.onRequeued?.(requeued);
    return requeued;
  }

  /** Retention: finished tasks older than `retentionMs` go, with their events. DLQ tasks stay. */
  async function expireFinished(now: number): Promise<void> {
    const expired = await redis.zrangebyscore(keys.tasksFinished(), '-inf', now - options.retentionMs, 'LIMIT', 0, options.batchSize);
    for (const id of expired) {
      if (await options.deleteTask(id)) logger.debug({ taskId: id }, 'task expired (retention)');
      // A finished task whose record is already gone leaves only its index entry.
      else await redis.zrem(keys.tasksFinished(), id);
    }
  }

  async function clearGhosts(queue: QueueName): Promise<void> {
    const active = await redis.lrange(keys.beeQueueKey(queue, 'active'), 0, options.batchSize - 1);
    if (active.length === 0) return;
    const pipeline = redis.pipeline();
    for (const jobId of active) pipeline.hexists(keys.beeQueueKey(queue, 'jobs'), jobId);
    const exists = (await pipeline.exec()) ?? [];
    for (const [index, [error, found]] of exists.entries()) {
      if (error || found) continue;
      // A job id is only ever re-added together with its job, so a missing job stays missing.
      await redis.lrem(keys.beeQueueKey(queue, 'active'), 0, active[index]!);
      logger.warn({ queue, jobId: active[index] }, 'sweeper removed a bee-queue ghost job');
    }
  }

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .catch((error: Error) => logger.warn({ err: error.message }, 'sweep failed'))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();

  return { sweep, dispose: () => clearInterval(timer) };
}
