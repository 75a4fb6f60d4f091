/**
 * Names of the queue jobs that carry a task. A job id is derived from the task's own state,
 * so the same job is never queued twice (bee-queue ignores a second job with a known id), and
 * anyone holding a task's record can tell which job should exist for it.
 */
import { QueueName } from './redis-keys.ts';
import { TaskState } from './task.ts';

export const jobIds = {
  /** A new task on the primary queue. */
  submitted: (taskId: string) => taskId,
  /** An operator's retry (from DLQ or CANCELLED), on the retry queue. */
  reopened: (taskId: string, version: number) => `${taskId}:reopen-${version}`,
  /** The delayed retry after failed attempt `attempt`, on the retry queue. */
  retry: (taskId: string, attempt: number) => `${taskId}:retry-${attempt}`,
  /** A look at a task whose lease ran out, on the retry queue. */
  takeover: (taskId: string, attempt: number) => `${taskId}:takeover-${attempt}`,
  /**
   * A second look at a task another worker held, when its lease ends, on the retry queue.
   * `look` makes each look's id its own: a look that comes too early (a worker clock ahead of
   * Redis') must be able to queue the next one while its own job still exists.
   */
  leaseCheck: (taskId: string, leaseExpiresAt: number, look: number) => `${taskId}:check-${leaseExpiresAt}-${look}`,
  /**
   * A SCHEDULED task whose delayed retry job bee-queue never raised (its delayed timer lost
   * after a Redis restart), queued now by the sweeper: once per schedule.
   */
  overdue: (taskId: string, nextAttemptAt: number) => `${taskId}:overdue-${nextAttemptAt}`,
  /**
   * A held task released early (its breaker reset, its rate-limit hold lifted) whose delayed job
   * was already on its way (stored, not delayed), on the retry queue: once per deferral.
   */
  released: (taskId: string, attempt: number) => `${taskId}:release-${attempt}`,
  /** A second look at a task reached before its retry was due, on the retry queue. */
  due: (taskId: string, nextAttemptAt: number, look: number) => `${taskId}:due-${nextAttemptAt}-${look}`,
  /**
   * A ticket with no task, on the retry queue, for the moment a parked dispatch can go on (a
   * lease-held slot or provider tokens freeing up): one per moment, however many parked.
   */
  wake: (at: number) => `wake:at-${at}`,
};

/** The task id a job id belongs to. */
export const taskIdOfJob = (jobId: string): string => jobId.split(':')[0]!;

export interface TaskJobState {
  id: string;
  state: TaskState;
  attempt: number;
  version: number;
  reopens: number;
}

/**
 * The job the normal flow keeps for a task in this state, or null for states no job serves.
 * A reopened PENDING task's job carries the version of the reopen (nothing else changes a
 * PENDING task); an ACTIVE task's is the takeover job the sweeper would add.
 */
export function expectedJob(task: TaskJobState): { queue: QueueName; jobId: string } | null {
  switch (task.state) {
    case TaskState.PENDING:
      return task.reopens > 0
        ? { queue: QueueName.RETRY, jobId: jobIds.reopened(task.id, task.version) }
        : { queue: QueueName.PRIMARY, jobId: jobIds.submitted(task.id) };
    case TaskState.SCHEDULED:
      return { queue: QueueName.RETRY, jobId: jobIds.retry(task.id, task.attempt) };
    case TaskState.ACTIVE:
      return { queue: QueueName.RETRY, jobId: jobIds.takeover(task.id, task.attempt) };
    default:
      return null;
  }
}
