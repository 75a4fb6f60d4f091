/**
 * Task use cases: submit, read, list, watch, and the operator's cancel, retry and delete.
 * Authorisation by tenant happens here: another tenant's task answers exactly like a
 * missing one.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode, isAppError } from '../../schema/src/errors.ts';
import { expectedJob, jobIds } from '../../schema/src/job-ids.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { EventKind, TaskState, TaskType, type TaskEvent, type TaskRecord } from '../../schema/src/task.ts';
import type { TaskChannelMessage } from '../../schema/src/task.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import { ListOrder, type ChangeOutcome, type TaskPage, type TaskRepository } from '../infra/task-repository.ts';
import { canSee, isAdmin, type Caller } from '../auth/scopes.ts';
import { closableIterator, createAsyncQueue } from './async-queue.ts';
import { createBacklog, type Backlog, type BacklogLimits } from './backlog.ts';
import { RESYNC, TaskWatch, type WatchItem } from './task-watch.ts';
import { createTicker } from './ticker.ts';
import { FEED_LIVE, type FeedLive } from './feed-live.ts';
import { validateContent, validateIdempotencyKey } from './content-validation.ts';

export interface TaskServiceOptions {
  repository: TaskRepository;
  queue: TaskQueueProducer;
  events: TaskEventBus;
  logger: Logger;
  maxRetries: number;
  maxContentBytes: number;
  /** While a watch is open, re-read the record this often in case a publish was lost. */
  resyncIntervalMs: number;
  /** Largest page `tasks(first:)` returns. */
  maxPageSize: number;
  /** How far a watch may fall behind when its caller gives no backlog of its own (a connection's). */
  subscriberLimits: BacklogLimits;
}

export interface SubmitTaskInput {
  content: string;
  type?: TaskType | null;
  idempotencyKey?: string | null;
}

export interface ListTasksInput {
  first?: number | null;
  after?: string | null;
  state?: TaskState | null;
  type?: TaskType | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  idPrefix?: string | null;
  order?: ListOrder | null;
}

export type { Caller };

export type TaskService = ReturnType<typeof createTaskService>;

const ID_SEARCH_LIMIT = 200;

export function createTaskService(options: TaskServiceOptions) {
  const { repository, queue, events, logger } = options;
  // One timer re-reads every open watch's task, a slice at a time, instead of one per watch.
  const resyncTicker = createTicker(options.resyncIntervalMs);

  /** Runs a storage call, turning connection trouble into UNAVAILABLE. */
  async function store<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isAppError(error)) throw error;
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'task store unavailable');
      throw new AppError(ErrorCode.UNAVAILABLE, 'the task store is unavailable; try again', { retryable: true, cause: error });
    }
  }

  const notFound = (id: string) => new AppError(ErrorCode.NOT_FOUND, 'task not found', { details: { id } });
  const actorOf = (caller: Caller) => caller.actor;

  /**
   * Accepts a task: validates, stores the PENDING record and queues its job in one step. With an
   * idempotency key a resend returns the first task; the same key with other content
   * is a CONFLICT. Fails with UNAVAILABLE (fast) when Redis cannot be reached.
   */
  async function submit(input: SubmitTaskInput, caller: Caller): Promise<TaskRecord> {
    validateContent(input.content, options.maxContentBytes);
    const idempotencyKey = input.idempotencyKey ?? null;
    if (idempotencyKey !== null) validateIdempotencyKey(idempotencyKey);

    const id = randomUUID();
    const outcome = await store(() =>
      repository.create({
        id,
        tenant: caller.tenant,
        type: input.type ?? TaskType.SUMMARIZE,
        content: input.content,
        maxRetries: options.maxRetries,
        idempotencyKey,
        job: queue.encodeSubmittedJob({ id, tenant: caller.tenant }),
      }),
    );
    if (outcome.status === 'conflict') {
      throw new AppError(ErrorCode.CONFLICT, 'idempotencyKey was already used with different content', {
        details: { taskId: outcome.taskId },
      });
    }
    // A new task was queued by the create script itself, in the same step.
    if (outcome.status === 'created') return outcome.record;
    // A resend: the task exists (or was deleted since); a failed read is UNAVAILABLE, not NOT_FOUND.
    const record = await store(() => repository.get(outcome.taskId));
    if (!record) throw notFound(outcome.taskId);
    // Its job may have been lost since (taken out by hand, a Redis without AOF restarted): queue
    // it again; a job with the task's id that still exists makes this a no-op. The task is
    // accepted whatever happens here: a failed enqueue is the sweeper's to repair, and failing
    // the request would invite another resend.
    if (record.state === TaskState.PENDING && record.reopens === 0) {
      await queue.enqueue(record).catch((error: Error) => logger.warn({ taskId: record.id, err: error.message }, 'enqueue failed; the sweeper will queue the task'));
    }
    logger.debug({ taskId: record.id, status: outcome.status }, 'task submitted');
    return record;
  }

  async function get(id: string, caller: Caller): Promise<TaskRecord | null> {
    const record = await store(() => repository.get(id));
    return record && canSee(caller, record.tenant) ? record : null;
  }

  /** The task, or NOT_FOUND: for operations that need one. */
  async function require(id: string, caller: Caller): Promise<TaskRecord> {
    const record = await get(id, caller);
    if (!record) throw notFound(id);
    return record;
  }

  function pageSize(first: number | null | undefined): number {
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 0 || size > options.maxPageSize) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `first must be between 0 and ${options.maxPageSize}`);
    }
    return size;
  }

  /**
   * Tasks in creation order (newest first by default), filtered by state, type, creation
   * time, or an id prefix. Counts come from the same indexes as the rows.
   */
  async function list(input: ListTasksInput, caller: Caller): Promise<TaskPage> {
    const first = pageSize(input.first);
    const order = input.order ?? ListOrder.NEWEST_FIRST;
    const cursor = decodeCursor(input.after ?? null);
    if (cursor && cursor.kind !== (input.idPrefix ? 'id' : 'score')) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'after belongs to a different listing');
    }
    const after = cursor?.value ?? null;
    const createdFrom = input.createdAfter ? input.createdAfter.getTime() : null;
    const createdTo = input.createdBefore ? input.createdBefore.getTime() : null;
    const matches = (record: TaskRecord) =>
      canSee(caller, record.tenant) &&
      (!input.state || record.state === input.state) &&
      (!input.type || record.type === input.type) &&
      (createdFrom === null || record.createdAt >= createdFrom) &&
      (createdTo === null || record.createdAt <= createdTo);

    if (input.idPrefix) {
      // Search by id: a bounded prefix lookup in the id index, then filters on those rows.
      const ids = await store(() => repository.idsWithPrefix(input.idPrefix!, ID_SEARCH_LIMIT));
      const found = (await store(() => repository.getMany(ids))).filter(matches);
      found.sort((a, b) => (order === ListOrder.NEWEST_FIRST ? b.createdAt - a.createdAt : a.createdAt - b.createdAt));
      const start = after === null ? 0 : found.findIndex((record) => record.id === after) + 1;
      const page = found.slice(start, start + first);
      return {
        records: page,
        totalCount: found.length,
        hasNextPage: start + first < found.length,
        endCursor: page.length > 0 ? encodeCursor('id', page[page.length - 1]!.id) : null,
      };
    }

    const page = await store(() =>
      repository.list({ first, after, order, state: input.state ?? null, type: input.type ?? null, createdFrom, createdTo, tenant: isAdmin(caller) ? null : caller.tenant }),
    );
    // The indexes already hold exactly the matches (the caller's slice, the state, the type); the
    // filter only drops a row that changed state between the index read and the record read.
    return { ...page, records: page.records.filter(matches), endCursor: page.endCursor === null ? null : encodeCursor('score', page.endCursor) };
  }

  async function content(record: TaskRecord): Promise<string> {
    if (record.content !== undefined) return record.content;
    return (await store(() => repository.getContent(record.id))) ?? '';
  }

  /** State transitions, oldest first, from the task's event stream. */
  async function history(id: string): Promise<TaskEvent[]> {
    const all = await store(() => repository.events(id));
    return all.filter((event) => event.kind === EventKind.TRANSITION);
  }

  /** Turns a script's answer into the task after the change, or the error the caller sees. */
  async function afterChange(id: string, outcome: ChangeOutcome, caller: Caller, action: string): Promise<TaskRecord> {
    if (outcome.status === 'missing') throw notFound(id);
    if (outcome.status === 'conflict') {
      throw new AppError(ErrorCode.CONFLICT, `cannot ${action} a task that is ${outcome.state}`, { details: { id, state: outcome.state } });
    }
    return require(id, caller);
  }

  /**
   * Takes the job that was waiting to deliver `before` off its queue, so queue depths count
   * only live work. Best effort: a job left behind finds the task finished and is dropped.
   */
  async function withdrawJob(before: TaskRecord): Promise<void> {
    const job = before.state === TaskState.ACTIVE ? null : expectedJob(before);
    if (!job) return;
    await queue.remove(job.queue, job.jobId).catch((error: Error) => logger.warn({ taskId: before.id, err: error.message }, 'could not withdraw job'));
  }

  /** PENDING or SCHEDULED: cancelled at once. ACTIVE: its provider call is aborted too. */
  async function cancel(id: string, caller: Caller): Promise<TaskRecord> {
    const before = await require(id, caller);
    const outcome = await store(() => repository.cancel(before, actorOf(caller), 'cancelled by operator'));
    if (outcome.status === 'ok') await withdrawJob(before);
    return afterChange(id, outcome, caller, 'cancel');
  }

  /** DLQ or CANCELLED back to work through the retry queue; any other state is a CONFLICT. */
  async function retry(id: string, resetRetryCount: boolean, caller: Caller): Promise<TaskRecord> {
    const before = await require(id, caller);
    const outcome = await store(() =>
      repository.reopen(before, actorOf(caller), { resetRetryCount, reason: resetRetryCount ? 'retried by operator (count reset)' : 'retried by operator' }),
    );
    if (outcome.status === 'ok') await store(() => queue.enqueue(before, QueueName.RETRY, jobIds.reopened(id, outcome.version)));
    return afterChange(id, outcome, caller, 'retry');
  }

  /** Removes the task everywhere; a worker finishing it later does not bring it back. */
  async function remove(id: string, caller: Caller): Promise<boolean> {
    const before = await get(id, caller);
    if (!before) return false;
    const removed = await store(() => repository.remove(id, actorOf(caller)));
    if (removed) await withdrawJob(before);
    return removed;
  }

  /**
   * The task's snapshot (or, with `afterVersion`, every stored change after it), then each
   * change in version order. Subscribes before reading, so nothing published in between is
   * lost; fills gaps from the event stream, and re-reads periodically in case a publish
   * was lost. Ends when the task is deleted. Rejects with NOT_FOUND when the caller cannot
   * see the task.
   */
  async function watch(id: string, afterVersion: number | null, caller: Caller, backlog?: Backlog): Promise<AsyncGenerator<TaskRecord>> {
    const inbox = createAsyncQueue<WatchItem>({ backlog: backlog ?? createBacklog(options.subscriberLimits) });
    const subscription = await store(() => events.onTask(id, (message, bytes) => inbox.push(message, bytes)));
    let snapshot: TaskRecord | null;
    try {
      snapshot = await get(id, caller);
    } catch (error) {
      subscription.dispose();
      throw error;
    }
    if (!snapshot) {
      subscription.dispose();
      throw notFound(id);
    }
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
  async function watchAll<T>(caller: Caller, pick: (message: TaskChannelMessage) => T | null, backlog?: Backlog): Promise<AsyncGenerator<T | FeedLive>> {
    const inbox = createAsyncQueue<T | FeedLive>({ backlog: backlog ?? createBacklog(options.subscriberLimits) });
    const subscription = await store(() =>
      events.onAnyTask((message, bytes) => {
        const tenant = message.kind === 'change' ? message.task.tenant : message.tenant;
        const value = canSee(caller, tenant) ? pick(message) : null;
        if (value !== null) inbox.push(value, bytes);
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
    submit,
    get,
    require,
    list,
    content,
    history,
    cancel,
    retry,
    remove,
    watch,
    watchChanges: (caller: Caller, backlog?: Backlog) => watchAll(caller, (m) => (m.kind === 'change' ? m.task : null), backlog),
    watchDeletions: (caller: Caller, backlog?: Backlog) => watchAll(caller, (m) => (m.kind === 'deleted' ? m.id : null), backlog),
    pageSize,
    store,
  };
}

type CursorKind = 'score' | 'id';

/** Cursors are opaque to clients: a creation score, or an id within an id search. */
export function encodeCursor(kind: CursorKind, value: string): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

export function decodeCursor(cursor: string | null): { kind: CursorKind; value: string } | null {
  if (cursor === null) return null;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(?:score:(\d{1,20})|id:([A-Za-z0-9-]{1,64}))$/.exec(decoded);
  if (!match) throw new AppError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor this API returned');
  return match[1] !== undefined ? { kind: 'score', value: match[1] } : { kind: 'id', value: match[2]! };
}
