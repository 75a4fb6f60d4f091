/**
 * Reads tasks' output streams (written only by the task scripts; see schema/src/scripts/output.ts)
 * and the few record fields an output feed needs.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { TaskState } from '../../schema/src/task.ts';
import { parseOutputEntry, type OutputChunk } from '../../schema/src/scripts/output.ts';

/** Chunks read per round trip when a feed catches up. */
const PAGE = 500;

export type OutputReader = ReturnType<typeof createOutputReader>;

export function createOutputReader(redis: Redis, keys: RedisKeys) {
  const toChunks = (taskId: string, entries: [string, string[]][]) => entries.map(([id, fields]) => parseOutputEntry(taskId, id, fields));

  return {
    /** Up to a page of the chunks after `after` (a chunk id; null: from the start), in order. */
    async chunksAfter(taskId: string, after: string | null): Promise<OutputChunk[]> {
      return toChunks(taskId, await redis.xrange(keys.taskOutput(taskId), after === null ? '-' : `(${after}`, '+', 'COUNT', PAGE));
    },

    /** Every chunk one attempt wrote (none when it wrote nothing, or a later attempt has written). */
    async attemptChunks(taskId: string, attempt: number): Promise<OutputChunk[]> {
      // An id with the sequence left out spans the whole attempt: `<attempt>-0` to `<attempt>-max`.
      return toChunks(taskId, await redis.xrange(keys.taskOutput(taskId), String(attempt), String(attempt)));
    },

    /** The task's state, or null once it is gone. */
    async state(taskId: string): Promise<TaskState | null> {
      return (await redis.hget(keys.task(taskId), 'state')) as TaskState | null;
    },
  };
}
