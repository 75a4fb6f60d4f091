/**
 * Reads task records, and makes the changes the API side owns: create, and the operator's
 * cancel, reopen (retry) and delete. Each change is one shared Lua script; the worker's
 * changes (claim, progress, complete, fail) go through its own task store.
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner, deleteTask } from '../../common/task-script-runner.ts';
import { QueueName, type RedisKeys } from '../../schema/src/redis-keys.ts';
import {
  parseTaskEvent,
  parseTaskHash,
  ERROR_CLASSES,
  TASK_STATES,
  type ErrorClass,
  type TaskEvent,
  type TaskRecord,
  type TaskState,
  type TaskType,
} from '../../schema/src/task.ts';
import type { ChangeOutcome } from '../../schema/src/scripts/api.ts';
import type { TransitionReason } from '../../schema/src/transition-reasons.ts';
import { budgetKeys, type BudgetPeriod } from '../../schema/src/scripts/budgets.ts';
import { lineKeys } from '../../schema/src/scripts/dispatch-lines.ts';
import { TaskPriority } from '../../schema/src/dispatch.ts';

export type { ChangeOutcome };

/** The task a change is about: its id and the tenant whose index slices move with it. */
export interface TaskRef {
  id: string;
  tenant: string;
}

export interface CreateTaskInput {
  id: string;
  tenant: string;
  /** The API key that submitted it (or 'anonymous'), for usage by key. */
  apiKeyId?: string;
  type: TaskType;
  content: string;
  maxRetries: number;
  idempotencyKey: string | null;
  /** Where it goes in its tenant's line (default NORMAL). */
  priority?: TaskPriority;
  /** Its cost to the dispatcher: estimated prompt tokens plus MAX_COMPLETION_TOKENS (`taskCost`). */
  cost?: number;
  /** The submit's W3C trace context (`traceparent`), handed to each attempt (docs/observability.md). */
  traceContext?: string | null;
  /**
   * The task's job on the primary queue, as bee-queue stores it, queued in the same step as the
   * record; without one the task is stored unqueued (the caller queues it, or the sweeper does).
   */
  job?: string;
  /** Its own model chain (schema/src/model-chain.ts `encodeTaskChain`); '' or absent for the configured one. */
  chain?: string;
}

export type CreateTaskOutcome =
  | { status: 'created'; taskId: string; record: TaskRecord }
  | { status: 'existing'; taskId: string }
  | { status: 'conflict'; taskId: string }
  | { status: 'budget'; period: BudgetPeriod };

export const ListOrder = { NEWEST_FIRST: 'NEWEST_FIRST', OLDEST_FIRST: 'OLDEST_FIRST' } as const;
export type ListOrder = (typeof ListOrder)[keyof typeof ListOrder];

export interface ListArgs {
  first: number;
  /** Score of the last row of the previous page. */
  after: string | null;
  order: ListOrder;
  state?: TaskState | null;
  type?: TaskType | null;
  /** Only DLQ tasks filed under this class. */
  deadLetterClass?: ErrorClass | null;
  /** Creation time bounds, epoch ms, inclusive. */
  createdFrom?: number | null;
  createdTo?: number | null;
  /** Only this tenant's tasks (the index's tenant slice); null for every tenant. */
  tenant?: string | null;
}

export interface TaskPage {
  records: TaskRecord[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

export interface TaskRepositoryOptions {
  redis: Redis;
  keys: RedisKeys;
  /** Cap of each task's event stream (approximate, trimmed by Redis). */
  maxEventsPerTask: number;
  /** How long an idempotency key is remembered. */
  idempotencyTtlSeconds: number;
  /** PRIORITY_OFFSET_MS (default 300000). */
  priorityOffsetMs?: number;
}

export type TaskRepository = ReturnType<typeof createTaskRepository>;

export function createTaskRepository(options: TaskRepositoryOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const priorityOffsetMs = options.priorityOffsetMs ?? 300_000;

  async function create(input: CreateTaskInput): Promise<CreateTaskOutcome> {
    const reply = await runScript(
      'taskCreate',
      { taskId: input.id, tenant: input.tenant },
      { maxEvents: options.maxEventsPerTask, actor: '' },
      {
        sequence: keys.taskSequence(),
        ids: keys.taskIds(),
        typeIndex: keys.tasksOfType(input.type),
        tenantTypeIndex: keys.tenantSlice(keys.tasksOfType(input.type), input.tenant),
        ...budgetKeys(keys, input.tenant, Date.now()),
        jobs: keys.beeQueueKey(QueueName.PRIMARY, 'jobs'),
        waiting: keys.beeQueueKey(QueueName.PRIMARY, 'waiting'),
        ...lineKeys(keys),
        ...(input.idempotencyKey !== null ? { idempotencyEntry: keys.idempotency(input.tenant, input.idempotencyKey) } : {}),
      },
      {
        id: input.id,
        apiKeyId: input.apiKeyId ?? '',
        type: input.type,
        content: input.content,
        maxRetries: input.maxRetries,
        idempotencyKey: input.idempotencyKey ?? '',
        idempotencyTtlSeconds: options.idempotencyTtlSeconds,
        job: input.job ?? '',
        priority: input.priority ?? TaskPriority.NORMAL,
        cost: input.cost ?? 1,
        priorityOffsetMs,
        trace: input.traceContext ?? '',
        chain: input.chain ?? '',
      },
    );
    // The script answers with the hash it wrote: the record, without a read-back.
    return reply.status === 'created' ? { status: 'created', taskId: input.id, record: parseTaskHash(reply.fields) } : reply;
  }

  /** The whole record (with content), or null when there is no such task. */
  async function get(id: string): Promise<TaskRecord | null> {
    const fields = await redis.hgetall(keys.task(id));
    return Object.keys(fields).length === 0 ? null : parseTaskHash(fields);
  }

  /** The content of each task in `ids`, in the same order (null where the task is gone), in one round trip. */
  async function getContents(ids: readonly string[]): Promise<(string | null)[]> {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(keys.task(id), 'content');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, content]) => {
      if (error) throw error;
      return (content as string | null) ?? null;
    });
  }

  async function getVersion(id: string): Promise<number | null> {
    const version = await redis.hget(keys.task(id), 'version');
    return version === null ? null : Number(version);
  }

  /** The task's stored events with a version above `afterVersion`, oldest first. */
  async function events(id: string, afterVersion = 0): Promise<TaskEvent[]> {
    // Entry ids are `0-<version>`, so the version range is an id range.
    const entries = await redis.xrange(keys.taskEvents(id), `(0-${afterVersion}`, '+');
    return entries.map(([, fields]) => parseTaskEvent(fields));
  }

  /**
   * One page of an index, in creation order either way. The cursor is the creation score of
   * the last row returned; scores are unique, so pages never overlap or skip, even while
   * tasks are being added. Creation bounds become score bounds: no scan.
   */
  async function list(args: ListArgs): Promise<TaskPage> {
    if (args.tenant && args.deadLetterClass) throw new Error('dead-letter indexes have no tenant slices');
    const slice = (index: string) => (args.tenant ? keys.tenantSlice(index, args.tenant) : index);
    // The index holding the rows; with both a state and a type, the state's, kept to the type's members.
    const index = slice(
      args.deadLetterClass
        ? keys.deadLetterByClass(args.deadLetterClass)
        : args.state
          ? keys.tasksInState(args.state)
          : args.type
            ? keys.tasksOfType(args.type)
            : keys.tasksAll(),
    );
    const member = args.type && (args.state || args.deadLetterClass) ? slice(keys.tasksOfType(args.type)) : null;
    const low = args.createdFrom == null ? '-inf' : String(args.createdFrom * 1000);
    const high = args.createdTo == null ? '+inf' : String(args.createdTo * 1000 + 999);
    const range = { low, high, newestFirst: args.order === ListOrder.NEWEST_FIRST };
    const [rows, totalCount] = await Promise.all([
      member ? rowsWithin(index, member, range, args.after, args.first + 1) : rowsOf(index, range, args.after, args.first + 1),
      member ? countWithin(index, member, range) : low === '-inf' && high === '+inf' ? redis.zcard(index) : redis.zcount(index, low, high),
    ]);
    const page = rows.slice(0, args.first);
    return {
      records: await getMany(page.map((row) => row.id)),
      hasNextPage: rows.length > args.first,
      endCursor: page.length > 0 ? page[page.length - 1]!.score : null,
      totalCount,
    };
  }

  interface ScoreRange {
    low: string;
    high: string;
    newestFirst: boolean;
  }

  /** Up to `limit` rows of `index` in the range, after the score `after`, in list order. */
  async function rowsOf(index: string, range: ScoreRange, after: string | null, limit: number): Promise<{ id: string; score: string }[]> {
    const flat = range.newestFirst
      ? await redis.zrevrangebyscore(index, after ? `(${after}` : range.high, range.low, 'WITHSCORES', 'LIMIT', 0, limit)
      : await redis.zrangebyscore(index, after ? `(${after}` : range.low, range.high, 'WITHSCORES', 'LIMIT', 0, limit);
    const rows: { id: string; score: string }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ id: flat[i]!, score: flat[i + 1]! });
    return rows;
  }

  /** Like `rowsOf`, keeping only members of `member`: walks `index` a batch at a time. */
  async function rowsWithin(index: string, member: string, range: ScoreRange, after: string | null, limit: number) {
    const kept: { id: string; score: string }[] = [];
    let cursor = after;
    for (;;) {
      const batch = await rowsOf(index, range, cursor, Math.max(limit * 2, 100));
      if (batch.length === 0) return kept;
      const scores = await redis.zmscore(member, ...batch.map((row) => row.id));
      for (const [i, row] of batch.entries()) {
        if (scores[i] !== null) kept.push(row);
        if (kept.length === limit) return kept;
      }
      cursor = batch.at(-1)!.score;
    }
  }

  /** How many members of `member` `index` holds in the range: exact, without reading records. */
  async function countWithin(index: string, member: string, range: ScoreRange): Promise<number> {
    if (range.low === '-inf' && range.high === '+inf') return redis.zintercard(2, index, member);
    let count = 0;
    let cursor: string | null = null;
    for (;;) {
      const batch = await rowsOf(index, range, cursor, 1000);
      if (batch.length === 0) return count;
      count += (await redis.zmscore(member, ...batch.map((row) => row.id))).filter((score) => score !== null).length;
      cursor = batch.at(-1)!.score;
    }
  }

  /** Records for `ids` in the same order; ids whose task is gone are left out. */
  async function getMany(ids: readonly string[]): Promise<TaskRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.task(id));
    const results = (await pipeline.exec()) ?? [];
    const records: TaskRecord[] = [];
    for (const [error, fields] of results) {
      if (error) throw error;
      if (fields && Object.keys(fields).length > 0) records.push(parseTaskHash(fields as Record<string, string>));
    }
    return records;
  }

  /** Ids starting with `prefix`, at most `limit`, from the id index (no scan). */
  async function idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // Ids are ASCII: every id with the prefix sorts below prefix + U+00FF (UTF-8 C3 BF).
    return redis.zrangebylex(keys.taskIds(), `[${prefix}`, `[${prefix}\u00ff`, 'LIMIT', 0, limit);
  }

  /**
   * Up to `limit` ids of DLQ tasks (optionally of one class), oldest first, after the score
   * `afterScore`. Returns the ids and the score to continue from.
   */
  async function deadLetterIds(errorClass: ErrorClass | null, limit: number, afterScore: string | null = null): Promise<{ ids: string[]; lastScore: string | null }> {
    const index = errorClass ? keys.deadLetterByClass(errorClass) : keys.tasksInState('DLQ');
    const flat = await redis.zrangebyscore(index, afterScore ? `(${afterScore}` : '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const ids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) ids.push(flat[i]!);
    return { ids, lastScore: flat.length > 0 ? flat[flat.length - 1]! : null };
  }

  const common = (actor: string) => ({ maxEvents: options.maxEventsPerTask, actor });

  /** PENDING, SCHEDULED or ACTIVE -> CANCELLED. */
  const cancel = (task: TaskRef, actor: string, reason: TransitionReason): Promise<ChangeOutcome> =>
    runScript('taskCancel', { taskId: task.id, tenant: task.tenant }, common(actor), lineKeys(keys), { reason });

  /** DLQ or CANCELLED -> PENDING (the caller queues it). */
  const reopen = (task: TaskRef, actor: string, change: { resetRetryCount: boolean; reason: TransitionReason }): Promise<ChangeOutcome> =>
    runScript('taskReopen', { taskId: task.id, tenant: task.tenant }, common(actor), lineKeys(keys), {
      resetRetryCount: change.resetRetryCount ? '1' : '0',
      reason: change.reason,
      priorityOffsetMs,
    });

  /** Removes the task everywhere. Returns false when there was none. */
  const remove = (id: string, actor: string): Promise<boolean> => deleteTask(redis, runScript, keys, id, common(actor));

  /** The size of each named sorted set, in one pipelined round trip. */
  async function sizes<K extends string>(names: readonly K[], keyOf: (name: K) => string): Promise<Record<K, number>> {
    const pipeline = redis.pipeline();
    for (const name of names) pipeline.zcard(keyOf(name));
    const results = (await pipeline.exec()) ?? [];
    const counts = {} as Record<K, number>;
    names.forEach((name, i) => {
      const [error, count] = results[i] ?? [new Error('missing reply'), 0];
      if (error) throw error;
      counts[name] = Number(count);
    });
    return counts;
  }

  /** How many tasks are in each state, read from the state indexes (no scan). */
  const stateCounts = (): Promise<Record<TaskState, number>> => sizes(TASK_STATES, keys.tasksInState);

  /**
   * How many DLQ tasks each error class holds, read from the per-class dead-letter indexes
   * (the same sets `list` counts for `deadLetterClass`).
   */
  const deadLetterCounts = (): Promise<Record<ErrorClass, number>> => sizes(ERROR_CLASSES, keys.deadLetterByClass);

  /**
   * Tasks stored before the per-type indexes existed were all SUMMARIZE (the only type then):
   * adds them to that type's index and its tenant slices. Idempotent (a union), and a no-op
   * once the index exists. Returns how many tenant slices it filled.
   */
  async function backfillTypeIndex(): Promise<number | null> {
    const summarize = keys.tasksOfType('SUMMARIZE');
    if ((await redis.exists(summarize)) || !(await redis.exists(keys.tasksAll()))) return null;
    await redis.zunionstore(summarize, 2, summarize, keys.tasksAll());
    let slices = 0;
    const prefix = keys.tenantSlice(keys.tasksAll(), '');
    for await (const found of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      for (const slice of found as string[]) {
        const target = keys.tenantSlice(summarize, slice.slice(prefix.length));
        await redis.zunionstore(target, 2, target, slice);
        slices += 1;
      }
    }
    return slices;
  }

  return { backfillTypeIndex, create, get, getMany, getContents, getVersion, events, list, idsWithPrefix, deadLetterIds, deadLetterCounts, stateCounts, cancel, reopen, remove };
}
