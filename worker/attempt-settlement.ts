/**
 * How an attempt that did not complete is settled: deferred with no retry counted (a breaker
 * open, no rate-limit token, a spent budget, a provider hold), handed back at shutdown, moved on
 * in its model chain, or failed (a retry scheduled, or the dead letter queue).
 */
import type { Logger } from '../common/logger.ts';
import { isProviderError } from '../schema/src/errors.ts';
import { holdOf } from '../schema/src/holds.ts';
import { jobIds } from '../schema/src/job-ids.ts';
import { QueueName } from '../schema/src/redis-keys.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { ErrorClass, TaskState } from '../schema/src/task.ts';
import type { DeferReason } from '../schema/src/dispatch.ts';
import { CancelledError, LeaseLostError, OutputTooLargeError, ShutdownError, type Attempt } from './attempt.ts';
import { failureRecord, retryDecision, toFailure } from './failure.ts';
import type { ModelBreakers } from './model-breakers.ts';
import { isCircuitOpenError } from './resilience.ts';
import type { RunnerOptions, RunnerWrites } from './runner-options.ts';
import type { ClaimedTask, Lease } from './task-store.ts';

export type SettlementOptions = Pick<RunnerOptions, 'circuit' | 'deferWhileOpenMs' | 'rateLimiter' | 'retryDelayScale' | 'retryPolicy' | 'onHeld'>;

/** Moves the task on in its model chain when the failure calls for it; false for an ordinary failure. */
export type SwitchModel = (attempt: Attempt, error: unknown) => Promise<boolean>;

export type Settlement = ReturnType<typeof createSettlement>;

export function createSettlement(options: SettlementOptions, writes: RunnerWrites, switchModel: SwitchModel) {
  const { store, persistently, queueRetry } = writes;

  async function recordFailure(lease: Lease, attempt: number, task: ClaimedTask, error: unknown, log: Logger) {
    const failure = toFailure(error);
    if (failure.errorClass === ErrorClass.INTERNAL) log.error({ err: error }, 'attempt failed with an internal error');
    const delay = retryDecision(failure, task, options).delayMs;
    if (failure.errorClass === ErrorClass.RATE_LIMIT && failure.retryAfterMs) {
      // The provider asked everyone to wait, not just this call: hold every worker's calls.
      await options.rateLimiter?.pause(failure.retryAfterMs * options.retryDelayScale).catch(() => undefined);
    }
    const outcome = await persistently(() => store.fail(lease, {
      state: delay === null ? TaskState.DLQ : TaskState.SCHEDULED,
      error: failureRecord(failure, attempt),
      retryDelayMs: delay,
      reason: failure.errorClass,
    }), log);
    if (outcome.status === 'stale') {
      log.warn({ state: outcome.state }, 'stale lease: failure not recorded');
      return;
    }
    if (outcome.nextAttemptAt === null) {
      log.warn({ errorClass: failure.errorClass, httpStatus: failure.httpStatus }, 'task moved to the dead letter queue');
      return;
    }
    await queueRetry(lease, attempt, outcome.nextAttemptAt, log);
    log.info({ errorClass: failure.errorClass, delayMs: delay }, 'task scheduled for retry');
  }

  /**
   * The provider is known to be down: the task waits for the breaker's probe time without a
   * call, an error or a retry counted, so it cannot drift to the DLQ while the provider heals.
   */
  async function deferWhileOpen(lease: Lease, attempt: number, log: Logger, resetsBefore = options.circuit.resets()): Promise<void> {
    const halfOpenAt = options.circuit.snapshot().halfOpenAt;
    const delayMs = halfOpenAt === null ? options.deferWhileOpenMs : Math.max(0, halfOpenAt - Date.now()) + 50;
    // An operator's reset that came in after the breaker refused would not find this deferral.
    await defer(lease, attempt, delayMs, TransitionReason.CIRCUIT_OPEN, log, () => options.circuit.resets() === resetsBefore);
  }

  /**
   * Every model of the task's chain is open on every worker (their shared breakers): the task
   * waits until one may be tried again, with no call, no error and no retry counted (reason
   * CIRCUIT_OPEN).
   */
  async function deferWhileModelsOpen(breakers: ModelBreakers, models: readonly string[], lease: Lease, attempt: number, log: Logger): Promise<void> {
    const closingsBefore = breakers.closings();
    const until = breakers.allOpenUntil(models) ?? Date.now();
    log.debug({ models }, 'model breakers open: the whole chain');
    // A breaker that closed after it refused would not find this deferral (its release ran already).
    await defer(lease, attempt, Math.max(0, until - Date.now()) + 50, TransitionReason.CIRCUIT_OPEN, log, () => breakers.closings() === closingsBefore);
  }

  /** Back to SCHEDULED for `delayMs` without a provider call, an error or a retry counted. */
  async function defer(lease: Lease, attempt: number, delayMs: number, reason: DeferReason, log: Logger, stillHeld = () => true): Promise<void> {
    const outcome = await persistently(() => store.defer(lease, delayMs, reason), log);
    if (outcome.status === 'stale' || outcome.nextAttemptAt === null) return;
    const at = outcome.nextAttemptAt;
    await queueRetry(lease, attempt, at, log);
    log.info({ delayMs, reason }, 'task deferred');
    const hold = holdOf(reason);
    if (hold && options.onHeld) {
      const deferral = { taskId: lease.taskId, tenant: lease.tenant, attempt, due: at };
      await options.onHeld(deferral, hold, stillHeld()).catch((error: Error) => log.warn({ err: error.message }, 'held task not released'));
    }
  }

  /** An attempt that threw: cancelled, lost, deferred, handed back at shutdown, or failed. */
  async function settleFailure(attempt: Attempt, error: unknown): Promise<void> {
    const { lease, task, log } = attempt;
    // Read before the first wait: the breaker refused this attempt under the resets counted now.
    const resetsBefore = options.circuit.resets();
    await attempt.settle();
    const reason = attempt.abortReason;
    if (reason instanceof CancelledError) {
      // The cancel (or delete) already changed the record and dropped our lease.
      log.info('attempt aborted: task cancelled');
    } else if (reason instanceof LeaseLostError) {
      log.warn('lease lost: attempt abandoned');
    } else if (isCircuitOpenError(error)) {
      await deferWhileOpen(lease, task.attempt, log, resetsBefore);
    } else if (isProviderError(error) && error.providerHold && error.retryAfterMs !== null) {
      // OpenRouter's in-flight budget is full for now: every worker holds its calls for the
      // Retry-After, and this task waits it out with no retry counted (docs/operations.md).
      const holdMs = error.retryAfterMs * options.retryDelayScale;
      await options.rateLimiter?.pause(holdMs).catch(() => undefined);
      await defer(lease, task.attempt, holdMs + 10, TransitionReason.PROVIDER_HOLD, log);
    } else if (reason instanceof ShutdownError) {
      // Hand it back and queue its takeover now: another worker resumes it at once, and
      // the interruption costs the task no retry. (No renewal may extend the lease after.)
      attempt.stopRenewal();
      if (await store.release(lease).catch(() => false)) {
        await writes.enqueue(lease.taskId, QueueName.RETRY, jobIds.takeover(lease.taskId, task.attempt), undefined, lease.tenant).catch((failure: Error) =>
          log.warn({ err: failure.message }, 'takeover job not queued; the sweeper will queue it'),
        );
      }
      log.info('attempt aborted by shutdown; task handed back');
    } else {
      const failure = reason instanceof OutputTooLargeError ? reason : error;
      if (!(await switchModel(attempt, failure))) await recordFailure(lease, task.attempt, task, failure, log);
    }
  }

  return { settleFailure, defer, deferWhileOpen, deferWhileModelsOpen };
}
