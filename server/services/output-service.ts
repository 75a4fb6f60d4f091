/**
 * Task output: the live `taskOutput` feed and `Task.output`. Another tenant's task answers
 * exactly like a missing one, as for `taskUpdated`. Output text is never logged.
 */
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { TaskState, type TaskRecord } from '../../schema/src/task.ts';
import { assembleOutput, parseOutputCursor, type OutputChunk } from '../../schema/src/scripts/output.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { OutputReader } from '../infra/output-reader.ts';
import type { Caller } from '../auth/scopes.ts';
import { closableIterator, createAsyncQueue } from './async-queue.ts';
import { createBacklog, type Backlog, type BacklogLimits } from './backlog.ts';
import { OutputWatch, type OutputItem } from './output-watch.ts';
import { RESYNC } from './task-watch.ts';
import { createTicker } from './ticker.ts';
import type { TaskService } from './task-service.ts';
import { taskNotFound } from './task-reads.ts';

export interface OutputServiceOptions {
  reader: OutputReader;
  events: TaskEventBus;
  tasks: TaskService;
  logger: Logger;
  /** While a feed is open, re-read its stream this often in case a publish was lost. */
  resyncIntervalMs: number;
  subscriberLimits: BacklogLimits;
}

export type OutputService = ReturnType<typeof createOutputService>;

export function createOutputService(options: OutputServiceOptions) {
  const { reader, events, tasks } = options;
  const resyncTicker = createTicker(options.resyncIntervalMs);

  /**
   * Every chunk after `after` (from the start when null), then live chunks, until the final
   * one or the task's end. Subscribes before reading, so nothing written in between is lost.
   */
  async function watch(id: string, after: string | null, caller: Caller, backlog?: Backlog): Promise<AsyncGenerator<OutputChunk>> {
    if (after !== null && !parseOutputCursor(after)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor this API returned');
    const inbox = createAsyncQueue<OutputItem>({ backlog: backlog ?? createBacklog(options.subscriberLimits) });
    const subscriptions = [
      await tasks.store(() => events.onOutput(id, (chunk, bytes) => inbox.push({ chunk }, bytes))),
    ];
    const dispose = () => {
      for (const subscription of subscriptions) subscription.dispose();
      inbox.close();
    };
    let snapshot: TaskRecord | null;
    try {
      subscriptions.push(await tasks.store(() => events.onTask(id, (message, bytes) => inbox.push({ task: message }, bytes))));
      snapshot = await tasks.get(id, caller);
    } catch (error) {
      dispose();
      throw error;
    }
    if (!snapshot) {
      dispose();
      throw taskNotFound(id);
    }
    const resync = resyncTicker.every(() => inbox.push(RESYNC));
    const chunks = new OutputWatch(id, after, snapshot, inbox, reader, options.logger).chunks();
    return closableIterator(chunks, () => {
      resync.dispose();
      dispose();
    });
  }

  /** What the task's current attempt has written so far; its result once COMPLETED. */
  async function textOf(task: TaskRecord): Promise<string | null> {
    if (task.state === TaskState.COMPLETED) return task.result;
    if (task.attempt === 0) return null;
    const chunks = await tasks.store(() => reader.attemptChunks(task.id, task.attempt));
    return chunks.length === 0 ? null : assembleOutput(chunks);
  }

  return { watch, textOf };
}
