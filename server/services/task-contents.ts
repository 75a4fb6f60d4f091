/**
 * Task contents for events. A task event carries the record without its content (up to
 * MAX_CONTENT_BYTES), so a subscription that selects `content` reads it from Redis. Read one
 * event at a time, that is one round trip per event per subscription, in series (graphql-ws
 * sends a subscription's next event only once the last one is on the socket): a burst of
 * events outruns it, and a client that keeps reading gets closed as too slow.
 *
 * So contents are read ahead and shared:
 * - `prefetch` starts the read when an event is queued, not when it is sent; the reads asked
 *   for in one tick (the events of one chunk from the task channel) go out as one pipeline
 *   (DataLoader batches, and dedupes ids in flight);
 * - what was read is kept by task id, for every subscription of this server, in an LRU bounded
 *   in bytes. A task's content never changes after it is submitted (only the create script
 *   writes it; retries and reopens do not) and ids are never reused (UUIDs), so an entry is
 *   never stale; the bound alone decides how long it stays. A miss (evicted, or never read)
 *   just reads again.
 */
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import type { TaskRepository } from '../infra/task-repository.ts';

export interface TaskContentsOptions {
  repository: Pick<TaskRepository, 'getContents'>;
  /** Bytes of content kept (TASK_CONTENT_CACHE_BYTES); 0 keeps none (reads are still batched). */
  maxBytes: number;
  /** Most ids read in one pipeline. Default 100. */
  maxBatch?: number;
}

export type TaskContents = ReturnType<typeof createTaskContents>;

/**
 * What one entry may cost: V8 stores a string in one or two bytes a character (two counted, so
 * the bound holds either way), plus the id and the LRU's bookkeeping.
 */
const entryBytes = (content: string) => 2 * content.length + 128;

export function createTaskContents(options: TaskContentsOptions) {
  const cache = options.maxBytes > 0 ? new LRUCache<string, string>({ maxSize: options.maxBytes, sizeCalculation: entryBytes }) : null;
  // Its own cache holds only reads in flight (each id's entry is cleared once read): the LRU
  // keeps the values, bounded in bytes, which DataLoader's cache (promises) cannot be.
  const reads: DataLoader<string, string | null> = new DataLoader(
    async (ids) => {
      const contents = await options.repository.getContents(ids);
      ids.forEach((id, i) => {
        const content = contents[i];
        if (content !== null && content !== undefined) cache?.set(id, content);
        reads.clear(id);
      });
      return contents;
    },
    { maxBatchSize: options.maxBatch ?? 100 },
  );

  return {
    /**
     * The task's content, or null when the task is gone. Rejects with the storage error when
     * Redis cannot answer (every id of the same batch does).
     */
    async load(id: string): Promise<string | null> {
      return cache?.get(id) ?? reads.load(id);
    },
    /** Starts reading the task's content now, for a `load` to come; does nothing when it is kept. */
    prefetch(id: string): void {
      if (cache?.has(id)) return;
      // A failure is not lost: the `load` this read is for asks again and reports it.
      reads.load(id).catch(() => undefined);
    },
    /** Keeps a content read some other way (a whole record). */
    remember(id: string, content: string): void {
      cache?.set(id, content);
    },
  };
}
