/**
 * One open `taskOutput` feed: the chunks after the client's cursor from the task's output
 * stream, then live chunks from pub/sub, in order, with none missed and none twice. A live
 * chunk that is not the next one (a lost publish), and every resync tick, make it read what it
 * missed from the stream. Ends after the final chunk, or once the task is DLQ, CANCELLED or
 * deleted (after reading whatever it wrote). A class, like TaskWatch: thousands of idle feeds
 * share its methods.
 */
import type { Logger } from '../../common/logger.ts';
import type { TaskChannelMessage } from '../../schema/src/channels.ts';
import { TERMINAL_STATES, TaskState, type TaskRecord } from '../../schema/src/task.ts';
import { isAfter, parseOutputCursor, type OutputChunk } from '../../schema/src/scripts/output.ts';
import type { AsyncQueue } from './async-queue.ts';
import { RESYNC } from './task-watch.ts';

export type OutputItem = { chunk: OutputChunk } | { task: TaskChannelMessage } | typeof RESYNC;

/** What a feed reads to fill gaps. */
export interface OutputFeedReader {
  chunksAfter(taskId: string, after: string | null): Promise<OutputChunk[]>;
  state(taskId: string): Promise<TaskState | null>;
}

type Position = { attempt: number; seq: number };

export class OutputWatch {
  private last: Position | null;
  private lastCursor: string | null;
  private finished = false;
  private sent = 0;

  /** `snapshot` is the record read after the feed's subscriptions were live. */
  constructor(
    private readonly id: string,
    after: string | null,
    private snapshot: TaskRecord | null,
    private readonly inbox: AsyncQueue<OutputItem>,
    private readonly reader: OutputFeedReader,
    private readonly logger: Logger,
  ) {
    this.lastCursor = after;
    this.last = after === null ? null : parseOutputCursor(after);
  }

  async *chunks(): AsyncGenerator<OutputChunk> {
    const snapshot = this.snapshot!;
    // Handed out once: an idle feed should not hold the record for hours.
    this.snapshot = null;
    yield* this.catchUp();
    if (this.finished) return;
    if (TERMINAL_STATES.has(snapshot.state)) {
      yield* this.withoutStream(snapshot);
      return;
    }
    for await (const item of this.inbox) {
      if (item === RESYNC) {
        yield* this.catchUp();
        if (this.finished) return;
        // A failed read (Redis away, a state this server does not know) is no reason to end
        // the feed: it counts as still running, and the next resync looks again.
        const state = await this.reader.state(this.id).catch((error: Error) => {
          this.logger.debug({ taskId: this.id, err: error.message }, 'output feed: task state not read; still following');
          return TaskState.ACTIVE;
        });
        if (state === null) return;
        if (TERMINAL_STATES.has(state)) return yield* this.catchUp();
      } else if ('task' in item) {
        if (item.task.kind === 'deleted') return;
        // The final chunk is written in the same step as COMPLETED: read anything not yet seen.
        if (TERMINAL_STATES.has(item.task.task.state)) return yield* this.catchUp();
      } else if (this.follows(item.chunk)) {
        this.take(item.chunk);
        yield item.chunk;
        if (this.finished) return;
      } else if (this.last === null || isAfter(item.chunk, this.last)) {
        // A gap before this chunk: read the stream from where this feed is.
        yield* this.catchUp();
        if (this.finished) return;
      }
    }
  }

  /** Whether `chunk` is the very next one: the one after the last sent, or a new attempt's first. */
  private follows(chunk: OutputChunk): boolean {
    if (chunk.seq === 1) return this.last === null || chunk.attempt > this.last.attempt;
    return this.last !== null && chunk.attempt === this.last.attempt && chunk.seq === this.last.seq + 1;
  }

  private take(chunk: OutputChunk): void {
    this.last = { attempt: chunk.attempt, seq: chunk.seq };
    this.lastCursor = chunk.cursor;
    this.sent += 1;
    if (chunk.final) this.finished = true;
  }

  /**
   * Every stored chunk after the last one sent. A storage error is not the subscriber's
   * problem: it yields nothing now and the next resync tries again.
   */
  private async *catchUp(): AsyncGenerator<OutputChunk> {
    for (;;) {
      let page: OutputChunk[];
      try {
        page = await this.reader.chunksAfter(this.id, this.lastCursor);
      } catch (error) {
        this.logger.debug({ taskId: this.id, err: (error as Error).message }, 'output catch-up failed; retrying later');
        return;
      }
      if (page.length === 0) return;
      for (const chunk of page) {
        this.take(chunk);
        yield chunk;
        if (this.finished) return;
      }
    }
  }

  /**
   * A task that ended with nothing in its output stream: one COMPLETED before output was kept
   * gets its result as a single final chunk, so every finished task reads the same way.
   */
  private *withoutStream(snapshot: TaskRecord): Generator<OutputChunk> {
    if (snapshot.state !== TaskState.COMPLETED || this.sent > 0 || this.lastCursor !== null || snapshot.result === null) return;
    const attempt = Math.max(1, snapshot.attempt);
    yield { taskId: this.id, cursor: `${attempt}-1`, attempt, seq: 1, text: snapshot.result, reset: true, final: true, model: snapshot.usageModel };
  }
}
