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
import { isWaiting, isWaitingState, type TaskStandings } from './task-standings.ts';
import type { TaskContents } from './task-contents.ts';
import { createTicker } from './ticker.ts';
import type { AsyncQueue } from './async-queue.ts';
import type { Disposable } from '../infra/task-events.ts';

export interface TaskFeedsOptions {
  repository: TaskRepository;
  events: TaskEventBus;
  reads: TaskReads;
  logger: Logger;
  /** While a watch is open, re-read the record this often in case a publish was lost. */
  resyncIntervalMs: number;
  /** How far a watch may fall behind when its caller gives no backlog of its own (a connection's). */
  subscriberLimits: BacklogLimits;
  /** Where waiting tasks stand, for watches that show it. */
  standings: TaskStandings;
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
  /** `taskUpdated` only: its operation selects where the task stands, so it is sent again whenever that changes. */
  followStanding?: boolean;
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
   * see the task. With `feed.followStanding` (the operation selects where the task stands), a
   * waiting task's record is sent again, same version, each time its standing changes.
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
    const standing = feed.followStanding ? new StandingFollower(options.standings, inbox, logger) : null;
    return closableIterator(standing ? standing.follow(changes) : changes, () => {
      standing?.dispose();
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

/**
 * Keeps one watch's waiting task followed (task-standings.ts): each record sent that waits has
 * its standing read first (the resolvers then ask Redis nothing more), and while it waits each
 * new standing comes back through the watch's inbox as the same record again.
 */
class StandingFollower {
  private following: Disposable | null = null;
  /** The last waiting record sent, without its content (an idle watch should not hold 64 KiB). */
  private held: TaskRecord | null = null;

  constructor(
    private readonly standings: TaskStandings,
    private readonly inbox: AsyncQueue<WatchItem>,
    private readonly logger: Logger,
  ) {}

  async *follow(changes: AsyncGenerator<TaskRecord>): AsyncGenerator<TaskRecord> {
    for await (const record of changes) {
      if (!isWaitingState(record.state)) {
        this.dispose();
        yield record;
        continue;
      }
      let standing;
      try {
        standing = await this.standings.standingOf(record);
      } catch (error) {
        // The resolvers will ask again (and answer the error); the next change follows again.
        this.logger.debug({ taskId: record.id, err: (error as Error).message }, 'standing unreadable; not followed for now');
        yield record;
        continue;
      }
      this.held = { ...record, content: undefined };
      if (!isWaiting(standing)) this.dispose();
      else if (!this.following) this.following = this.standings.follow(record.id, standing, (next) => this.onStanding(next));
      // The record itself: its fields answer the standing just read (kept for that object), and
      // every watcher of this task shares the event's execution (shared-execution.ts).
      yield record;
    }
  }

  private onStanding(standing: Parameters<TaskStandings['withStanding']>[1]): void {
    // No longer waiting: the change that ended the wait is on its way as a new version.
    if (!isWaiting(standing) || !this.held) return this.dispose();
    this.inbox.push({ kind: 'standing', task: this.standings.withStanding(this.held, standing) });
  }

  dispose(): void {
    this.following?.dispose();
    this.following = null;
    this.held = null;
  }
}
