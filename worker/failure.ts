/**
 * What a failed attempt is (its error class and the text the task record keeps) and whether it
 * earns a retry: pure decisions, shared by the ordinary failure (worker/attempt-settlement.ts)
 * and the model chain's switch that counts a retry (worker/model-routing.ts).
 */
import { isProviderError, isRetryableClass, type ScheduledErrorClass } from '../schema/src/errors.ts';
import { retryDelayMs, retryLimitFor, type RetryPolicy } from '../schema/src/retry-policy.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { OutputTooLargeError } from './attempt.ts';
import type { ClaimedTask } from './task-store.ts';

export interface Failure {
  errorClass: ScheduledErrorClass;
  message: string;
  httpStatus: number | null;
  retryAfterMs: number | null;
}

export function toFailure(error: unknown): Failure {
  if (error instanceof OutputTooLargeError) {
    return { errorClass: ErrorClass.OUTPUT_TOO_LARGE, message: error.message, httpStatus: null, retryAfterMs: null };
  }
  if (isProviderError(error)) {
    return { errorClass: error.errorClass, message: error.message, httpStatus: error.httpStatus, retryAfterMs: error.retryAfterMs };
  }
  // Anything else is our bug or the environment's: retried, but recorded as INTERNAL. Its text
  // (addresses, Redis errors) goes to the worker's log only; the task record is read by tenants.
  return { errorClass: ErrorClass.INTERNAL, message: 'internal error in the worker (details in its log)', httpStatus: null, retryAfterMs: null };
}

/** The error as the task record keeps it: the provider's Retry-After is spent on the delay, not stored. */
export function failureRecord(failure: Failure, attempt: number) {
  const { retryAfterMs: _retryAfter, ...record } = failure;
  return { ...record, attempt };
}

export interface RetryDecision {
  /** The class is retried and the task has retries left (the class's limit, else the task's). */
  canRetry: boolean;
  /** The delay before the retry; null when it cannot retry or the class's schedule is empty. */
  delayMs: number | null;
}

/** Whether the task may retry after `failure`, and after how long (RETRY_SCHEDULES, RETRY_DELAY_SCALE). */
export function retryDecision(
  failure: Failure,
  task: Pick<ClaimedTask, 'retryCount' | 'maxRetries'>,
  options: { retryPolicy: RetryPolicy; retryDelayScale: number },
): RetryDecision {
  const limit = retryLimitFor(failure.errorClass, task.maxRetries, options.retryPolicy);
  const canRetry = isRetryableClass(failure.errorClass) && task.retryCount < limit;
  const delayMs = canRetry
    ? retryDelayMs(failure.errorClass, task.retryCount + 1, {
        scale: options.retryDelayScale,
        atLeastMs: failure.retryAfterMs ?? 0,
        policy: options.retryPolicy,
      })
    : null;
  return { canRetry, delayMs };
}
