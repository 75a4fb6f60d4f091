/**
 * One open `taskUpdated` watch: turns what arrives on its inbox (task events from pub/sub,
 * and resync ticks) into the task's changes in version order, with no gap and none twice.
 * An event that skips versions, and every resync tick, makes it read what it missed from the
 * task's event stream (or the record, when the capped stream no longer holds it). Ends when
 * the task is deleted. A class, so the thousands of idle watches a server holds share its
 * methods instead of a set of closures each.
 */
import type { Logger } from '../../common/logger.ts';
import type { TaskChannelMessage } from '../../schema/src/channels.ts';
import type { TaskEvent, TaskRecord } from '../../schema/src/task.ts';
import type { AsyncQueue } from './async-queue.ts';

/** Pushed on a watch's inbox to make it re-read its task (a publish may have been lost). */
export const RESYNC = Symbol('resync');
/**
 * A new standing of the waiting task (task-standings.ts): the last record sent again, answering
 * the new position. Sent only while that record is still the newest (same version).
 */
export interface StandingUpdate {
  kind: 'standing';
  task: TaskRecord;
}
export type WatchItem = TaskChannelMessage | typeof RESYNC | StandingUpdate;

/** What a watch reads to fill gaps. */
export interface TaskWatchReader {
  getVersion(id: string): Promise<number | null>;
  events(id: string, afterVersion?: number): Promise<TaskEvent[]>;
  get(id: string): Promise<TaskRecord | null>;
}

export class TaskWatch {
  private last: number;
  private first: TaskRecord | null;
  private readonly firstVersion: number;

  /** `snapshot` is the record read after the watch's subscription was live. */
  constructor(
    private readonly id: string,
    snapshot: TaskRecord,
    afterVersion: number | null,
    private readonly inbox: AsyncQueue<WatchItem>,
    private readonly reader: TaskWatchReader,
    private readonly logger: Logger,
  ) {
    this.last = afterVersion ?? 0;
    // Handed out once and not kept: an idle watch should not hold its snapshot for hours.
    this.first = afterVersion === null ? snapshot : null;
    this.firstVersion = snapshot.version;
  }

  /** The snapshot (or every stored change after `afterVersion`), then each change. */
  async *changes(): AsyncGenerator<TaskRecord> {
    if (this.first) {
      this.last = this.firstVersion;
      yield this.takeFirst();
    }
    if (this.firstVersion > this.last) {
      const records = await this.missed();
      if (records === null) return;
      for (const record of this.fresh(records)) yield record;
    }
    for await (const item of this.inbox) {
      if (item !== RESYNC && item.kind === 'standing') {
        if (item.task.version === this.last) yield item.task;
        continue;
      }
      if (item !== RESYNC && item.kind === 'deleted') return;
      if (item !== RESYNC && item.task.version <= this.last) continue;
      if (item !== RESYNC && item.task.version === this.last + 1) {
        for (const record of this.fresh([item.task])) yield record;
        continue;
      }
      // A resync tick, or a gap before this event: fill it in order.
      const records = await this.missed();
      if (records === null) return;
      for (const record of this.fresh(item === RESYNC ? records : [...records, item.task])) yield record;
    }
  }

  private takeFirst(): TaskRecord {
    const record = this.first!;
    this.first = null;
    return record;
  }

  /** The records newer than the last one sent, in order; each becomes the last sent. */
  private *fresh(records: TaskRecord[]): Generator<TaskRecord> {
    for (const record of records) {
      if (record.version <= this.last) continue;
      this.last = record.version;
      yield record;
    }
  }

  /**
   * What this watch has not sent yet; null once the task is gone. A storage error is not the
   * subscriber's problem: it yields nothing now and the next resync tries again.
   */
  private async missed(): Promise<TaskRecord[] | null> {
    try {
      const version = await this.reader.getVersion(this.id);
      if (version === null) return null;
      if (version <= this.last) return [];
      const stored = (await this.reader.events(this.id, this.last)).map((event) => event.task);
      if (stored.at(-1)?.version === version) return stored;
      const current = await this.reader.get(this.id);
      return current ? [...stored, current] : null;
    } catch (error) {
      this.logger.debug({ taskId: this.id, err: (error as Error).message }, 'watch resync failed; retrying later');
      return [];
    }
  }
}
