/**
 * Reading tasks: one task, a filtered page, its content and history. Another tenant's task
 * answers exactly like a missing one. Storage trouble becomes UNAVAILABLE (`store`).
 */
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode, isAppError } from '../../schema/src/errors.ts';
import { EventKind, type TaskEvent, type TaskRecord, type TaskState, type TaskType } from '../../schema/src/task.ts';
import { ListOrder, type TaskPage, type TaskRepository } from '../infra/task-repository.ts';
import { canSee, isAdmin, type Caller } from '../auth/scopes.ts';
import type { TaskContents } from './task-contents.ts';

export interface TaskReadsOptions {
  repository: TaskRepository;
  logger: Logger;
  /** Largest page `tasks(first:)` returns. */
  maxPageSize: number;
  /** Where an event's record (which has no content) gets its content. */
  contents: TaskContents;
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

export type TaskReads = ReturnType<typeof createTaskReads>;

const ID_SEARCH_LIMIT = 200;

export const taskNotFound = (id: string) => new AppError(ErrorCode.NOT_FOUND, 'task not found', { details: { id } });

export function createTaskReads(options: TaskReadsOptions) {
  const { repository, logger } = options;

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

  async function get(id: string, caller: Caller): Promise<TaskRecord | null> {
    const record = await store(() => repository.get(id));
    return record && canSee(caller, record.tenant) ? record : null;
  }

  /** The task, or NOT_FOUND: for operations that need one. */
  async function require(id: string, caller: Caller): Promise<TaskRecord> {
    const record = await get(id, caller);
    if (!record) throw taskNotFound(id);
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

  /** The task's content: the record's own, or (an event's record) read through `contents`. */
  async function content(record: TaskRecord): Promise<string> {
    if (record.content !== undefined) return record.content;
    return (await store(() => options.contents.load(record.id))) ?? '';
  }

  /** State transitions, oldest first, from the task's event stream. */
  async function history(id: string): Promise<TaskEvent[]> {
    const all = await store(() => repository.events(id));
    return all.filter((event) => event.kind === EventKind.TRANSITION);
  }

  return { store, get, require, pageSize, list, content, history };
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
