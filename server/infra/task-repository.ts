/**
 * Reads and creates task records. Creation goes through the shared `taskCreate` script;
 * every other change belongs to the worker's task store (or, later, operator scripts).
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner, scriptReply } from '../../common/task-script-runner.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import {
  parseTaskEvent,
  parseTaskHash,
  TASK_STATES,
  type TaskEvent,
  type TaskRecord,
  type TaskState,
  type TaskType,
} from '../../schema/src/task.ts';
import { taskScriptArgs, taskScriptKeys } from '../../schema/src/task-scripts.ts';

export interface CreateTaskInput {
  id: string;
  tenant: string;
  type: TaskType;
  content: string;
  maxRetries: number;
  idempotencyKey: string | null;
}

export type CreateTaskOutcome =
  | { status: 'created'; taskId: string }
  | { status: 'existing'; taskId: string }
  | { status: 'conflict'; taskId: string };

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
}

export type TaskRepository = ReturnType<typeof createTaskRepository>;

export function createTaskRepository(options: TaskRepositoryOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis);

  async function create(input: CreateTaskInput): Promise<CreateTaskOutcome> {
    const scriptKeys = [...taskScriptKeys(keys, input.id), keys.taskSequence()];
    if (input.idempotencyKey !== null) {
      scriptKeys.push(keys.idempotency(input.tenant, input.idempotencyKey));
    }
    const reply = scriptReply(
      await runScript('taskCreate', scriptKeys, [
        ...taskScriptArgs(keys, input.id, { maxEvents: options.maxEventsPerTask, actor: '' }),
        input.id,
        input.tenant,
        input.type,
        input.content,
        input.maxRetries,
        input.idempotencyKey ?? '',
        options.idempotencyTtlSeconds,
      ]),
    );
    if (reply.status === 'created') return { status: 'created', taskId: input.id };
    const taskId = reply.values[0]!;
    return reply.status === 'existing' ? { status: 'existing', taskId } : { status: 'conflict', taskId };
  }

  /** The whole record (with content), or null when there is no such task. */
  async function get(id: string): Promise<TaskRecord | null> {
    const fields = await redis.hgetall(keys.task(id));
    return Object.keys(fields).length === 0 ? null : parseTaskHash(fields);
  }

  async function getContent(id: string): Promise<string | null> {
    return redis.hget(keys.task(id), 'content');
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
   * Newest first. The cursor is the creation score of the last row returned; scores are
   * unique, so pages never overlap or skip, even while tasks are being added.
   */
  async function list(args: { first: number; after: string | null; state: TaskState | null }): Promise<TaskPage> {
    const index = args.state ? keys.tasksInState(args.state) : keys.tasksAll();
    const max = args.after ? `(${args.after}` : '+inf';
    const [idsWithScores, totalCount] = await Promise.all([
      redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, args.first + 1),
      redis.zcard(index),
    ]);
    const rows: { id: string; score: string }[] = [];
    for (let i = 0; i + 1 < idsWithScores.length; i += 2) {
      rows.push({ id: idsWithScores[i]!, score: idsWithScores[i + 1]! });
    }
    const page = rows.slice(0, args.first);
    const pipeline = redis.pipeline();
    for (const row of page) pipeline.hgetall(keys.task(row.id));
    const results = (await pipeline.exec()) ?? [];
    const records: TaskRecord[] = [];
    for (const [error, fields] of results) {
      if (error) throw error;
      // A task deleted between the two reads is simply left out.
      if (fields && Object.keys(fields).length > 0) records.push(parseTaskHash(fields as Record<string, string>));
    }
    return {
      records,
      hasNextPage: rows.length > args.first,
      endCursor: page.length > 0 ? page[page.length - 1]!.score : null,
      totalCount,
    };
  }

  /** How many tasks are in each state, read from the state indexes (no scan). */
  async function stateCounts(): Promise<Record<TaskState, number>> {
    const pipeline = redis.pipeline();
    for (const state of TASK_STATES) pipeline.zcard(keys.tasksInState(state));
    const results = (await pipeline.exec()) ?? [];
    const counts = {} as Record<TaskState, number>;
    TASK_STATES.forEach((state, i) => {
      const [error, count] = results[i] ?? [new Error('missing reply'), 0];
      if (error) throw error;
      counts[state] = Number(count);
    });
    return counts;
  }

  return { create, get, getContent, getVersion, events, list, stateCounts };
}
