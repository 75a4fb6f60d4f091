/**
 * Finds work that no queue job will ever deliver again and queues it: ACTIVE tasks whose
 * lease ran out (their worker died, or lost Redis long enough to give up), PENDING tasks
 * whose job vanished (a submit that stored the task but lost its enqueue), and SCHEDULED
 * tasks whose delayed job is overdue and gone, or still there but never raised (bee-queue's delayed
 * timer can be lost with a Redis restart). Every worker runs one; they cannot collide,
 * because each job id is derived from the task's own state, so a second enqueue is a no-op,
 * and the claim script decides who runs the task.
 *
 * Tasks waiting in a tenant's line need no job of their own (any ticket starts the best one);
 * the dispatcher's sweep queues tickets when work waits with none (sweepDispatch).
 *
 * It also clears bee-queue "ghosts": ids left in a queue's active list after their job was
 * deleted. bee-queue makes them when a stall check re-queues a job that is still running (as
 * happens while Redis is away) and the first run then finishes: the id is back in `waiting`
 * with no job behind it, and every worker that pops it just leaves it in `active` forever.
 *
 * And it applies retention: COMPLETED and CANCELLED tasks are deleted, with their events,
 * TASK_RETENTION_HOURS after they finished (DLQ tasks wait for an operator).
 *
 * It reads the non-terminal state indexes a batch per pass (continuing where the last pass
 * stopped), the active lists and the oldest finished tasks.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { QueueName, type RedisKeys } from '../schema/src/redis-keys.ts';
import { expectedJob, jobIds } from '../schema/src/job-ids.ts';
import { TaskState } from '../schema/src/task.ts';
import type { CallUsage } from '../schema/src/usage.ts';
import { pendingCallCodec, type PendingCall } from '../schema/src/scripts/usage.ts';

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
  /**
   * The dispatcher's upkeep (docs/dispatch.md): tickets for waiting work that has none, held
   * tenants whose leases ran out. Returns the tickets it queued.
   */
  sweepDispatch?(): Promise<number>;
  /**
   * Provider calls still written as under way `afterMs` after they began: their worker died
   * before recording their usage. One the provider named (a generation id) is recorded as the
   * provider reports it (`usageOf`; null while it does not know the call yet: asked again on later
   * passes, for up to `afterMs` more, then estimated); one it never named, at `estimate`, flagged
   * estimated. `record` records it exactly once: whoever takes the call off the list first.
   */
  orphanCalls?: {
    afterMs: number;
    usageOf(generationId: string, call: PendingCall): Promise<CallUsage | null>;
    estimate(call: PendingCall): Promise<CallUsage>;
    record(callId: string, call: PendingCall, usage: CallUsage): Promise<boolean>;
  };
}

export function startSweeper(options: SweeperOptions) {
  const { redis, keys, logger } = options;

  // Where each state's scan goes on next pass: a backlog larger than one batch is covered
  // over several passes instead of re-reading its oldest tasks forever.
  const cursors: Record<string, string | null> = {};

  /** The next batch of `state`'s index, continuing from the last pass and wrapping around. */
  async function nextBatch(state: TaskState): Promise<string[]> {
    const from = cursors[state] ? `(${cursors[state]}` : '-inf';
    const flat = await redis.zrangebyscore(keys.tasksInState(state), from, '+inf', 'WITHSCORES', 'LIMIT', 0, options.batchSize);
    const ids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) ids.push(flat[i]!);
    cursors[state] = ids.length < options.batchSize ? null : flat[flat.length - 1]!;
    return ids;
  }

  async function sweep(): Promise<number> {
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const stale = now - options.intervalMs;
    let requeued = 0;
    for (const state of [TaskState.ACTIVE, TaskState.PENDING, TaskState.SCHEDULED]) {
      const ids = await nextBatch(state);
      if (ids.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.task(id), 'state', 'attempt', 'version', 'updatedAt', 'leaseExpiresAt', 'nextAttemptAt', 'reopens', 'queued');
      const rows = (await pipeline.exec()) ?? [];
      const candidates: { id: string; queue: QueueName; jobId: string; nextAttemptAt: number }[] = [];
      for (const [index, [error, values]] of rows.entries()) {
        if (error) throw error;
        const [current, attempt, version, updatedAt, leaseExpiresAt, nextAttemptAt, reopens, queued] = values as (string | null)[];
        const id = ids[index]!;
        if (current !== state) continue; // moved on since the index read
        // A task in its tenant's line needs no job of its own: any ticket starts it (checked below).
        if (queued && state !== TaskState.ACTIVE) continue;
        const due =
          state === TaskState.ACTIVE
            ? Number(leaseExpiresAt ?? 0) < now
            : state === TaskState.SCHEDULED
              ? Number(nextAttemptAt ?? 0) < stale
              : Number(updatedAt ?? now) < stale;
        if (!due) continue;
        const job = expectedJob({ id, state, attempt: Number(attempt), version: Number(version), reopens: Number(reopens ?? 0) });
        if (job) candidates.push({ id, ...job, nextAttemptAt: Number(nextAttemptAt ?? 0) });
      }
      if (candidates.length === 0) continue;
      // An ACTIVE task past its lease always gets its takeover job (an existing one is a no-op);
      // a PENDING or SCHEDULED one only when its job is gone.
      const existing = redis.pipeline();
      for (const candidate of candidates) {
        existing.hexists(keys.beeQueueKey(candidate.queue, 'jobs'), candidate.jobId);
        existing.zscore(keys.beeQueueKey(candidate.queue, 'delayed'), candidate.jobId);
      }
      const found = (await existing.exec()) ?? [];
      for (const [index, candidate] of candidates.entries()) {
        const [jobExists, delayedUntil] = [found[2 * index]?.[1], found[2 * index + 1]?.[1] as string | null | undefined];
        if (state === TaskState.SCHEDULED && jobExists && delayedUntil != null && Number(delayedUntil) < stale) {
          // Its delayed job is there but overdue: bee-queue lost the timer that raises it (a
          // Redis restart can do that). Queue the task now under an id of its own.
          await options.enqueue(candidate.id, QueueName.RETRY, jobIds.overdue(candidate.id, candidate.nextAttemptAt));
          requeued += 1;
          logger.warn({ taskId: candidate.id, jobId: candidate.jobId }, 'sweeper queued a task whose delayed retry was never raised');
          continue;
        }
        if (state !== TaskState.ACTIVE && jobExists) continue;
        await options.enqueue(candidate.id, candidate.queue, candidate.jobId);
        requeued += 1;
        logger.warn({ taskId: candidate.id, state, jobId: candidate.jobId }, 'sweeper re-queued a task');
      }
    }
    for (const queue of [QueueName.PRIMARY, QueueName.RETRY]) await clearGhosts(queue);
    await expireFinished(now);
    await reconcileOrphanCalls();
    if (options.sweepDispatch) requeued += await options.sweepDispatch();
    options.onRequeued?.(requeued);
    return requeued;
  }

  /** Records the usage of provider calls whose worker died mid-call (billed, or maybe billed). */
  async function reconcileOrphanCalls(): Promise<void> {
    const orphans = options.orphanCalls;
    if (!orphans) return;
    const pending = await redis.hgetall(keys.usagePending());
    for (const [callId, json] of Object.entries(pending)) {
      const call = pendingCallCodec.decode(json, callId);
      if (!call) {
        await redis.hdel(keys.usagePending(), callId);
        continue;
      }
      const age = Date.now() - call.at;
      if (age < orphans.afterMs) continue;
      const exact = call.generationId ? await orphans.usageOf(call.generationId, call) : null;
      // The provider may still be recording a call it named: ask again on the next passes.
      if (call.generationId && !exact && age < 2 * orphans.afterMs) continue;
      const usage = exact ?? (await orphans.estimate(call));
      if (await orphans.record(callId, call, usage)) {
        logger.warn({ taskId: call.taskId, callId, generationId: call.generationId, estimated: usage.estimated }, 'usage of a call whose worker died recorded');
      }
    }
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
