/**
 * The dead letter queue as operators use it: list (by error class), retry in bulk, purge.
 * Each task moves with its own atomic script; a bulk action reports how many moved.
 */
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { jobIds } from '../../schema/src/job-ids.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { ERROR_CLASSES, type ErrorClass } from '../../schema/src/task.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import { ListOrder, type TaskPage, type TaskRepository } from '../infra/task-repository.ts';
import { canSee, type Caller } from '../auth/scopes.ts';
import { TransitionReason } from '../../schema/src/transition-reasons.ts';
import { decodeCursor, encodeCursor, type TaskService } from './task-service.ts';

export interface DeadLetterServiceOptions {
  repository: TaskRepository;
  queue: TaskQueueProducer;
  tasks: TaskService;
  /** Tasks moved per batch by bulk retry and purge. */
  batchSize: number;
}

export type DeadLetterService = ReturnType<typeof createDeadLetterService>;

export function createDeadLetterService(options: DeadLetterServiceOptions) {
  const { repository, queue, tasks } = options;

  /** DLQ tasks, oldest first, optionally of one error class. */
  async function list(args: { first?: number | null; after?: string | null; errorClass?: ErrorClass | null }, caller: Caller): Promise<TaskPage> {
    const first = tasks.pageSize(args.first);
    const cursor = decodeCursor(args.after ?? null);
    if (cursor && cursor.kind !== 'score') throw new AppError(ErrorCode.BAD_USER_INPUT, 'after belongs to a different listing');
    const page = await tasks.store(() =>
      repository.list({
        first,
        after: cursor?.value ?? null,
        order: ListOrder.OLDEST_FIRST,
        state: 'DLQ',
        deadLetterClass: args.errorClass ?? null,
      }),
    );
    return {
      ...page,
      records: page.records.filter((record) => canSee(caller, record.tenant)),
      endCursor: page.endCursor === null ? null : encodeCursor('score', page.endCursor),
    };
  }

  /**
   * How many DLQ tasks each error class holds: one row per class in ERROR_CLASSES order (the
   * GraphQL enum's order), zero counts included. Counts every tenant's tasks (admin only).
   */
  async function counts(): Promise<{ errorClass: ErrorClass; count: number }[]> {
    const byClass = await tasks.store(() => repository.deadLetterCounts());
    return ERROR_CLASSES.map((errorClass) => ({ errorClass, count: byClass[errorClass] }));
  }

  /**
   * Sends DLQ tasks back to work through the retry queue: the given ids, or every task of
   * `errorClass`, or the whole DLQ. Ids that are not in the DLQ are skipped. Returns how many
   * moved.
   */
  async function retry(args: { errorClass?: ErrorClass | null; ids?: readonly string[] | null }, caller: Caller): Promise<number> {
    let moved = 0;
    const retryOne = async (id: string) => {
      const record = await tasks.get(id, caller);
      if (!record || record.state !== 'DLQ' || (args.errorClass && record.dlqClass !== args.errorClass)) return false;
      const outcome = await tasks.store(() => repository.reopen(record, caller.actor, { resetRetryCount: true, reason: TransitionReason.RETRIED_FROM_DEAD_LETTERS }));
      if (outcome.status !== 'ok') return false;
      await tasks.store(() => queue.enqueue(record, QueueName.RETRY, jobIds.reopened(id, outcome.version)));
      return true;
    };
    if (args.ids) {
      for (const id of new Set(args.ids)) if (await retryOne(id)) moved += 1;
      return moved;
    }
    // Walk the index forward once. A task that fails again re-enters the DLQ with its old
    // (creation) score, behind the cursor, so one call retries each task at most once.
    let cursor: string | null = null;
    for (;;) {
      const page = await tasks.store(() => repository.deadLetterIds(args.errorClass ?? null, options.batchSize, cursor));
      for (const id of page.ids) if (await retryOne(id)) moved += 1;
      if (page.ids.length < options.batchSize) return moved;
      cursor = page.lastScore;
    }
  }

  /** Deletes every DLQ task. Refuses without `confirm: true`. Returns how many were deleted. */
  async function purge(confirm: boolean, caller: Caller): Promise<number> {
    if (!confirm) throw new AppError(ErrorCode.BAD_USER_INPUT, 'purging the dead letter queue needs confirm: true');
    let deleted = 0;
    let cursor: string | null = null;
    for (;;) {
      const page = await tasks.store(() => repository.deadLetterIds(null, options.batchSize, cursor));
      for (const id of page.ids) {
        const record = await tasks.get(id, caller);
        if (record?.state === 'DLQ' && (await tasks.remove(id, caller))) deleted += 1;
      }
      if (page.ids.length < options.batchSize) return deleted;
      cursor = page.lastScore;
    }
  }

  return { list, counts, retry, purge };
}
