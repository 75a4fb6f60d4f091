/**
 * Queue-wide status: depths of the bee-queue queues, tasks per state, and the retry share
 * in force. Watchers share one computation per change burst (a shared feed).
 */
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { retryRatioInForce, type RetryRatioSettings } from '../../schema/src/queue-policy.ts';
import { TASK_STATES, TaskState } from '../../schema/src/task.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { TaskRepository } from '../infra/task-repository.ts';
import { createSharedFeed } from './shared-feed.ts';

export interface QueueStatusSnapshot {
  primary: number;
  retry: number;
  scheduled: number;
  dlq: number;
  states: { state: TaskState; count: number }[];
  retryRatio: number;
}

export interface QueueServiceOptions {
  repository: TaskRepository;
  queue: TaskQueueProducer;
  events: TaskEventBus;
  logger: Logger;
  retryRatio: RetryRatioSettings;
  /** At most one recomputation per this interval while changes stream in. */
  coalesceMs: number;
  /** Also recompute this often while anyone watches (a lost publish heals). */
  resyncIntervalMs: number;
}

export type QueueService = ReturnType<typeof createQueueService>;

export function createQueueService(options: QueueServiceOptions) {
  const { repository, queue, events, logger } = options;

  async function status(): Promise<QueueStatusSnapshot> {
    let depths: Awaited<ReturnType<TaskQueueProducer['depths']>>;
    let counts: Awaited<ReturnType<TaskRepository['stateCounts']>>;
    try {
      [depths, counts] = await Promise.all([queue.depths(), repository.stateCounts()]);
    } catch (cause) {
      throw new AppError(ErrorCode.UNAVAILABLE, 'queue status is unavailable; try again', { retryable: true, cause });
    }
    return {
      primary: depths.primary,
      retry: depths.retry,
      scheduled: counts.SCHEDULED,
      dlq: counts.DLQ,
      states: TASK_STATES.map((state) => ({ state, count: counts[state] })),
      retryRatio: retryRatioInForce(depths.retry, options.retryRatio),
    };
  }

  const feed = createSharedFeed({
    name: 'queue status',
    logger,
    compute: status,
    listen: (onHint) => events.onAnyTask(onHint),
    coalesceMs: options.coalesceMs,
    resyncIntervalMs: options.resyncIntervalMs,
  });

  return { status, watch: feed.watch, dispose: feed.dispose };
}
