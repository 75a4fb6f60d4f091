/**
 * Task use cases: submit, read, list and watch. Authorisation by tenant happens here:
 * another tenant's task answers exactly like a missing one.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode, isAppError } from '../../schema/src/errors.ts';
import { EventKind, TaskState, TaskType, type TaskEvent, type TaskRecord } from '../../schema/src/task.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { TaskPage, TaskRepository } from '../infra/task-repository.ts';
import { closableIterator, createAsyncQueue } from './async-queue.ts';
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
}

export interface SubmitTaskInput {
  content: string;
  type?: TaskType | null;
  idempotencyKey?: string | null;
}

export interface Caller {
  tenant: string;
}

export type TaskService = ReturnType<typeof createTaskService>;

const RESYNC = Symbol('resync');

export function createTaskService(options: TaskServiceOptions) {
  const { repository, queue, events, logger } = options;

  function unavailable(cause: unknown): AppError {
    return new AppError(ErrorCode.UNAVAILABLE, 'the task store is unavailable; try again', {
      retryable: true,
      cause,
    });
  }

  /** Runs a storage call, turning connection trouble into UNAVAILABLE. */
  async function store<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isAppError(error)) throw error;
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'task store unavailable');
      throw unavailable(error);
    }
  }

  const notFound = (id: string) =>
    new AppError(ErrorCode.NOT_FOUND, 'task not found', { details: { id } });

  /**
   * Accepts a task: validates, stores the PENDING record, queues its job. With an
   * idempotency key a resend returns the first task; the same key with other content
   * is a CONFLICT. Fails with UNAVAILABLE (fast) when Redis cannot be reached.
   */
  async function submit(input: SubmitTaskInput, caller: Caller): Promise<TaskRecord> {
    validateContent(input.content, options.maxContentBytes);
    const idempotencyKey = input.idempotencyKey ?? null;
    if (idempotencyKey !== null) validateIdempotencyKey(idempotencyKey);

    const outcome = await store(() =>
      repository.create({
        id: randomUUID(),
        tenant: caller.tenant,
        type: input.type ?? TaskType.SUMMARIZE,
        content: input.content,
        maxRetries: options.maxRetries,
        idempotencyKey,
      }),
    );
    if (outcome.status === 'conflict') {
      throw new AppError(ErrorCode.CONFLICT, 'idempotencyKey was already used with different content', {
        details: { taskId: outcome.taskId },
      });
    }
    if (outcome.status === 'created') {
      await store(() => queue.enqueue(outcome.taskId));
    }
    const record = await store(() => repository.get(outcome.taskId));
    if (!record) throw notFound(outcome.taskId);
    if (outcome.status === 'existing' && record.state === TaskState.PENDING) {
      // The first send may have stored the task but lost its enqueue. Re-enqueueing is a
      // no-op when the job exists: the job id is the task id.
      await store(() => queue.enqueue(outcome.taskId));
    }
    logger.debug({ taskId: record.id, status: outcome.status }, 'task submitted');
    return record;
  }

  async function get(id: string, caller: Caller): Promise<TaskRecord | null> {
    const record = await store(() => repository.get(id));
    return record && record.tenant === caller.tenant ? record : null;
  }

  async function list(
    args: { first?: number | null; after?: string | null; state?: TaskState | null },
    caller: Caller,
  ): Promise<TaskPage> {
    const first = args.first ?? 20;
    if (!Number.isInteger(first) || first < 0 || first > options.maxPageSize) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `first must be between 0 and ${options.maxPageSize}`);
    }
    const page = await store(() =>
      repository.list({ first, after: decodeCursor(args.after ?? null), state: args.state ?? null }),
    );
    // Single-tenant until API keys arrive; the filter keeps the rule in one place.
    return { ...page, records: page.records.filter((r) => r.tenant === caller.tenant), endCursor: encodeCursor(page.endCursor) };
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

  /**
   * The task's snapshot (or, with `afterVersion`, every stored change after it), then each
   * change in version order. Subscribes before reading, so nothing published in between is
   * lost; fills gaps from the event stream, and re-reads periodically in case a publish
   * was lost. Rejects with NOT_FOUND when the caller cannot see the task.
   */
  async function watch(id: string, afterVersion: number | null, caller: Caller): Promise<AsyncGenerator<TaskRecord>> {
    const inbox = createAsyncQueue<TaskRecord | typeof RESYNC>();
    const subscription = await store(() => events.onTask(id, (record) => inbox.push(record)));
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
    const first = snapshot;
    const resync = setInterval(() => inbox.push(RESYNC), options.resyncIntervalMs);

    async function* run(): AsyncGenerator<TaskRecord> {
      let last = afterVersion ?? 0;
      if (afterVersion === null) {
        yield first;
        last = first.version;
      }
      async function* catchUp(): AsyncGenerator<TaskRecord> {
        for (const event of await store(() => repository.events(id, last))) {
          if (event.version <= last) continue;
          last = event.version;
          yield event.task;
        }
        // The stream is capped: if it no longer holds what we missed, send the record.
        const current = await store(() => repository.get(id));
        if (current && current.version > last) {
          last = current.version;
          yield current;
        }
      }
      if (first.version > last) yield* catchUp();
      for await (const item of inbox) {
        if (item === RESYNC) {
          yield* catchUp();
        } else if (item.version === last + 1) {
          last = item.version;
          yield item;
        } else if (item.version > last + 1) {
          yield* catchUp();
        }
      }
    }
    return closableIterator(run(), () => {
      clearInterval(resync);
      subscription.dispose();
      inbox.close();
    });
  }

  /** Every change of any of the caller's tasks, as it happens (no snapshot). */
  async function watchAll(caller: Caller): Promise<AsyncGenerator<TaskRecord>> {
    const inbox = createAsyncQueue<TaskRecord>();
    const subscription = await store(() =>
      events.onAnyTask((record) => {
        if (record.tenant === caller.tenant) inbox.push(record);
      }),
    );
    async function* run(): AsyncGenerator<TaskRecord> {
      yield* inbox;
    }
    return closableIterator(run(), () => {
      subscription.dispose();
      inbox.close();
    });
  }

  return { submit, get, list, content, history, watch, watchAll };
}

function encodeCursor(score: string | null): string | null {
  return score === null ? null : Buffer.from(`task:${score}`).toString('base64url');
}

function decodeCursor(cursor: string | null): string | null {
  if (cursor === null) return null;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^task:(\d{1,20})$/.exec(decoded);
  if (!match) throw new AppError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor this API returned');
  return match[1]!;
}
