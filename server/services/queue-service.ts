/**
 * Queue-wide status: depths of the bee-queue queues, tasks per state, and the retry share
 * in force. Watchers share one computation per change burst, however many they are.
 */
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { retryRatioInForce, type RetryRatioSettings } from '../../schema/src/queue-policy.ts';
import { TASK_STATES, TaskState } from '../../schema/src/task.ts';
import type { Disposable, TaskEventBus } from '../infra/task-events.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { TaskRepository } from '../infra/task-repository.ts';
import { closableIterator, createAsyncQueue, type AsyncQueue } from './async-queue.ts';

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

  // One shared feed for all watchers, started with the first and stopped with the last.
  const watchers = new Set<AsyncQueue<QueueStatusSnapshot>>();
  let feed: { subscription: Promise<Disposable>; resync: NodeJS.Timeout } | null = null;
  let pending: NodeJS.Timeout | null = null;
  let lastSent = '';

  function scheduleRefresh(): void {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      status().then(
        (snapshot) => {
          const serialized = JSON.stringify(snapshot);
          if (serialized === lastSent) return;
          lastSent = serialized;
          for (const watcher of watchers) watcher.push(snapshot);
        },
        (error) => logger.warn({ err: error }, 'queue status refresh failed'),
      );
    }, options.coalesceMs);
  }

  function startFeed(): void {
    feed = {
      subscription: events.onAnyTask(() => scheduleRefresh()),
      resync: setInterval(scheduleRefresh, options.resyncIntervalMs),
    };
    feed.subscription.catch((error) => logger.warn({ err: error }, 'queue status feed failed'));
  }

  function stopFeed(): void {
    if (!feed) return;
    clearInterval(feed.resync);
    feed.subscription.then((s) => s.dispose(), () => undefined);
    feed = null;
    if (pending) clearTimeout(pending);
    pending = null;
    lastSent = '';
  }

  /** A snapshot first, then a new status whenever it changes (coalesced). */
  async function watch(): Promise<AsyncGenerator<QueueStatusSnapshot>> {
    const inbox = createAsyncQueue<QueueStatusSnapshot>();
    watchers.add(inbox);
    const close = () => {
      watchers.delete(inbox);
      inbox.close();
      if (watchers.size === 0) stopFeed();
    };
    let snapshot: QueueStatusSnapshot;
    try {
      if (!feed) startFeed();
      await feed!.subscription;
      snapshot = await status();
    } catch (error) {
      close();
      throw error;
    }
    async function* run(): AsyncGenerator<QueueStatusSnapshot> {
      yield snapshot;
      let last = JSON.stringify(snapshot);
      for await (const next of inbox) {
        const serialized = JSON.stringify(next);
        if (serialized === last) continue;
        last = serialized;
        yield next;
      }
    }
    return closableIterator(run(), close);
  }

  return { status, watch, dispose: stopFeed };
}
