/**
 * Live task feeds: one task's changes (`taskUpdated`), and every change or deletion of the
 * caller's tasks (`tasksUpdated`, `taskDeleted`). Another tenant's task answers exactly like a
 * missing one; the all-task feeds skip other tenants' tasks.
 */
import type { Logger } from '../../common/logger.ts';
import type { TaskChannelMessage } from '../../schema/src/channels.ts';
import type { TaskRecord } from '../../schema/src/task.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { TaskRepository } from '../infra/task-repository.ts';
import { canSee, type Caller } from '../auth/scopes.ts';
import { closableIterator, createAsyncQueue } from './async-queue.ts';
import { createBacklog, type Backlog, type BacklogLimits } from './backlog.ts';
import { FEED_LIVE, type FeedLive } from './feed-live.ts';
import { taskNotFound, type TaskReads } from './task-reads.ts';
import { RESYNC, TaskWatch, type WatchItem } from './task-watch.ts';
import type { TaskContents } from './task-contents.ts';
import { createTicker } from './ticker.ts';

export interface TaskFeedsOptions {
  repository: TaskRepository;
  events: TaskEventBus;
  reads: TaskReads;
  logger: Logger;
  /** While a watch is open, re-read the record this often in case a publish was lost. */
  resyncIntervalMs: number;
  /** How far a watch may fall behind when its caller gives no backlog of its own (a connection's). */
  subscriberLimits: BacklogLimits;
  /** Where events' contents are read ahead (`FeedOptions.prefetchContent`). */
  contents: TaskContents;
}

/** What a subscription's transport tells its feed. */
export interface FeedOptions {
  /** How far it may fall behind, with its connection's other subscriptions. Default: a backlog of its own (`subscriberLimits`). */
  backlog?: Backlog;
  /**
   * Its operation selects each task's content: read it as each event is queued, batched with
   * the other events of the moment, rather than once the event's turn to be sent has come.
   */
  prefetchContent?: boolean;
}

export function createTaskFeeds(options: TaskFeedsOptions) {
  const { repository, events, reads, contents, logger } = options;
  // One timer re-reads every open watch's task, a slice at a time, instead of one per watch.
  const resyncTicker = createTicker(options.resyncIntervalMs);

  /**
   * The task's snapshot (or, with `afterVersion`, every stored change after it), then each
   * change in version order. Subscribes before reading, so nothing published in between is
   * lost; fills gaps from the event stream, and re-reads periodically in case a publish
   * was lost. Ends when the task is deleted. Rejects with NOT_FOUND when the caller cannot
   * see the task.
   */
  async function watch(id: string, afterVersion: number | null, caller: Caller, feed: FeedOptions = {}): Promise<AsyncGenerator<TaskRecord>> {
    const inbox = createAsyncQueue<WatchItem>({ backlog: feed.backlog ?? createBacklog(options.subscriberLimits) });
    const subscription = await reads.store(() => events.onTask(id, (message, bytes) => inbox.push(message, bytes)));
    let snapshot: TaskRecord | null;
    try {
      snapshot = await reads.get(id, caller);
    } catch (error) {
      subscription.dispose();
      throw error;
    }
    if (!snapshot) {
      subscription.dispose();
      throw taskNotFound(id);
    }
    // Every later event is of this task: the snapshot's content serves them all.
    if (feed.prefetchContent && snapshot.content !== undefined) contents.remember(id, snapshot.content);
    const resync = resyncTicker.every(() => inbox.push(RESYNC));
    const changes = new TaskWatch(id, snapshot, afterVersion, inbox, repository, logger).changes();
    return closableIterator(changes, () => {
      resync.dispose();
      subscription.dispose();
      inbox.close();
    });
  }

  /**
   * FEED_LIVE once the feed is live, then every change (or the id of every deletion, as `pick`
   * chooses) of the caller's tasks.
   */
  async function watchAll<T>(caller: Caller, pick: (message: TaskChannelMessage) => T | null, feed: FeedOptions): Promise<AsyncGenerator<T | FeedLive>> {
    const inbox = createAsyncQueue<T | FeedLive>({ backlog: feed.backlog ?? createBacklog(options.subscriberLimits) });
    const subscription = await reads.store(() =>
      events.onAnyTask((message, bytes) => {
        const tenant = message.kind === 'change' ? message.task.tenant : message.tenant;
        const value = canSee(caller, tenant) ? pick(message) : null;
        if (value === null) return;
        inbox.push(value, bytes);
        // A push past the backlog's limit closes the inbox: that event is never sent.
        if (feed.prefetchContent && message.kind === 'change' && !inbox.closed) contents.prefetch(message.task.id);
      }),
    );
    inbox.push(FEED_LIVE);
    async function* run(): AsyncGenerator<T | FeedLive> {
      yield* inbox;
    }
    return closableIterator(run(), () => {
      subscription.dispose();
      inbox.close();
    });
  }

  return {
    watch,
    watchChanges: (caller: Caller, feed: FeedOptions = {}) => watchAll(caller, (m) => (m.kind === 'change' ? m.task : null), feed),
    watchDeletions: (caller: Caller, feed: FeedOptions = {}) => watchAll(caller, (m) => (m.kind === 'deleted' ? m.id : null), feed),
  };
}
