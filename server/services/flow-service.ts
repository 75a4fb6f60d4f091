/**
 * Recent task flow for the dashboard: how many tasks made each transition per minute. The
 * task scripts count every transition into a per-minute Redis hash (`taskFlowBucket`, kept
 * for FLOW_BUCKET_TTL_MS), so every server reads the same numbers; this service only reads.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { parseTaskState, type TaskState } from '../../schema/src/task.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import { createSharedFeed } from './shared-feed.ts';

export const MINUTE_MS = 60_000;
export const MAX_FLOW_MINUTES = 60;
const DEFAULT_FLOW_MINUTES = 15;

export interface FlowCount {
  from: TaskState | null;
  to: TaskState | null;
  count: number;
}

export interface TaskFlowSnapshot {
  minutes: number;
  /** Oldest minute first; the current, partial minute last. */
  buckets: { start: number; transitions: FlowCount[] }[];
  at: number;
}

export interface FlowServiceOptions {
  redis: Redis;
  keys: RedisKeys;
  events: TaskEventBus;
  logger: Logger;
  coalesceMs: number;
  resyncIntervalMs: number;
}

export type FlowService = ReturnType<typeof createFlowService>;

/** One side of a `FROM>TO` field: '' is "none" (a submit, a delete); undefined is a state this server does not know. */
const toState = (value: string | undefined): TaskState | null | undefined => (value === '' ? null : value === undefined ? undefined : parseTaskState(value));

/**
 * Reads one bucket's `FROM>TO` fields. A field naming a state this server does not know (a
 * newer worker's during a rolling upgrade) is skipped without a warning: the chart shows the
 * transitions this server can name, and every refresh would repeat the warning.
 */
export function parseFlowFields(fields: Record<string, string>): FlowCount[] {
  const counts: FlowCount[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const [fromText, toText] = field.split('>');
    const from = toState(fromText);
    const to = toState(toText);
    const count = Number(value);
    if (from === undefined || to === undefined || !Number.isFinite(count)) continue;
    counts.push({ from, to, count });
  }
  return counts;
}

/** `minutes` checked and clamped: 1 to MAX_FLOW_MINUTES; a missing value is the default. */
export function flowMinutes(minutes: number | null | undefined): number {
  if (minutes === null || minutes === undefined) return DEFAULT_FLOW_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_FLOW_MINUTES) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `minutes must be an integer from 1 to ${MAX_FLOW_MINUTES}`, { details: { reason: 'minutes' } });
  }
  return minutes;
}

export function createFlowService(options: FlowServiceOptions) {
  const { redis, keys } = options;

  /** The last `minutes` minutes of flow, read in one round trip (Redis' clock decides "now"). */
  async function flow(minutes: number = MAX_FLOW_MINUTES): Promise<TaskFlowSnapshot> {
    try {
      const [seconds, micros] = await redis.time();
      const at = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const current = at - (at % MINUTE_MS);
      const starts = Array.from({ length: minutes }, (_, i) => current - (minutes - 1 - i) * MINUTE_MS);
      const pipeline = redis.pipeline();
      for (const start of starts) pipeline.hgetall(keys.taskFlowBucket(start));
      const replies = (await pipeline.exec()) ?? [];
      const buckets = starts.map((start, i) => {
        const [error, fields] = replies[i] ?? [new Error('no reply'), null];
        if (error) throw error;
        return { start, transitions: parseFlowFields((fields ?? {}) as Record<string, string>) };
      });
      return { minutes, buckets, at };
    } catch (cause) {
      throw new AppError(ErrorCode.UNAVAILABLE, 'task flow is unavailable; try again', { retryable: true, cause });
    }
  }

  // One feed for every watcher: it reads the longest window, each watcher gets its slice.
  const feed = createSharedFeed({
    name: 'task flow',
    logger: options.logger,
    compute: () => flow(MAX_FLOW_MINUTES),
    listen: (onHint) => options.events.onAnyTask(onHint),
    coalesceMs: options.coalesceMs,
    // At least once a minute, so a quiet system still sees a new (empty) minute begin.
    resyncIntervalMs: Math.min(options.resyncIntervalMs, MINUTE_MS / 4),
  });

  /** The last `minutes` now, then after each change; `return()` reaches the feed at once. */
  async function watch(minutes?: number | null): Promise<AsyncIterableIterator<TaskFlowSnapshot>> {
    const window = flowMinutes(minutes);
    const source = await feed.watch();
    const iterator: AsyncIterableIterator<TaskFlowSnapshot> = {
      next: async () => {
        const result = await source.next();
        return result.done ? result : { done: false, value: slice(result.value, window) };
      },
      return: (value?: unknown) => source.return(value as TaskFlowSnapshot),
      throw: (error?: unknown) => source.throw(error),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  return { flow: async (minutes?: number | null) => flow(flowMinutes(minutes)), watch, dispose: feed.dispose };
}

function slice(snapshot: TaskFlowSnapshot, minutes: number): TaskFlowSnapshot {
  return { ...snapshot, minutes, buckets: snapshot.buckets.slice(-minutes) };
}
