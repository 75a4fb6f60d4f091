/**
 * Reads tasks' output streams (written only by the task scripts; see schema/src/scripts/output.ts)
 * and the few record fields an output feed needs.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { parseTaskState, type TaskState } from '../../schema/src/task.ts';
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

    /**
     * The task's state, or null once it is gone. A value that names no state rejects, like a
     * failed read: it is neither "gone" nor terminal, and an output feed that took it for
     * either would end a running task's output early; as a failed read, the feed keeps
     * following and looks again at its next resync.
     */
    async state(taskId: string): Promise<TaskState | null> {
      const value = await redis.hget(keys.task(taskId), 'state');
      if (value === null) return null;
      const state = parseTaskState(value);
      if (state === undefined) throw new Error(`task ${taskId} has a state this server does not know: ${JSON.stringify(value.slice(0, 40))}`);
      return state;
    },
  };
}
