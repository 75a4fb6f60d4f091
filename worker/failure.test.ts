import { describe, expect, it } from 'vitest';
import { ProviderError } from '../schema/src/errors.ts';
import { createRetryPolicy } from '../schema/src/retry-policy.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { OutputTooLargeError } from './attempt.ts';
import { failureRecord, retryDecision, toFailure } from './failure.ts';

const options = { retryPolicy: createRetryPolicy(), retryDelayScale: 1 };
const task = (retryCount: number, maxRetries = 3) => ({ retryCount, maxRetries });
const unavailable = toFailure(new ProviderError(ErrorClass.SERVICE_UNAVAILABLE, 'down', { httpStatus: 503 }));

describe('toFailure', () => {
  it('keeps a provider error as it is, and records anything else as INTERNAL without its text', () => {
    expect(toFailure(new ProviderError(ErrorClass.RATE_LIMIT, 'slow down', { httpStatus: 429, retryAfterMs: 7000 }))).toEqual({
      errorClass: ErrorClass.RATE_LIMIT, message: 'slow down', httpStatus: 429, retryAfterMs: 7000,
    });
    expect(toFailure(new OutputTooLargeError('too long')).errorClass).toBe(ErrorClass.OUTPUT_TOO_LARGE);
    const internal = toFailure(new Error('connect ECONNREFUSED 10.0.0.1:6379'));
    expect(internal.errorClass).toBe(ErrorClass.INTERNAL);
    expect(internal.message).not.toContain('10.0.0.1');
  });

  it('stores the attempt with the error, and not the Retry-After', () => {
    expect(failureRecord({ ...unavailable, retryAfterMs: 5000 }, 2)).toEqual({ errorClass: ErrorClass.SERVICE_UNAVAILABLE, message: 'down', httpStatus: 503, attempt: 2 });
  });
});

describe('retryDecision', () => {
  it("retries a retryable class while the task has retries left, after the class's delay", () => {
    const first = retryDecision(unavailable, task(0), options);
    expect(first.canRetry).toBe(true);
    expect(first.delayMs).toBeGreaterThanOrEqual(5000);
    expect(first.delayMs).toBeLessThanOrEqual(5500);
    expect(retryDecision(unavailable, task(3), options)).toEqual({ canRetry: false, delayMs: null });
  });

  it('never retries a permanent class', () => {
    expect(retryDecision(toFailure(new ProviderError(ErrorClass.PERMANENT, 'bad request', { httpStatus: 400 })), task(0), options)).toEqual({ canRetry: false, delayMs: null });
  });

  it("takes the class's own limit over the task's, and waits at least the provider's Retry-After, scaled", () => {
    const policy = createRetryPolicy({ SERVICE_UNAVAILABLE: { maxRetries: 1 } });
    expect(retryDecision(unavailable, task(1, 10), { retryPolicy: policy, retryDelayScale: 1 }).canRetry).toBe(false);
    const late = retryDecision({ ...unavailable, retryAfterMs: 100_000 }, task(0), { ...options, retryDelayScale: 0.01 });
    expect(late.delayMs).toBeGreaterThanOrEqual(1000);
    expect(late.delayMs).toBeLessThanOrEqual(1100);
  });

  it('may retry a class with an empty schedule yet have no delay for it (the ordinary failure then goes to the DLQ)', () => {
    expect(retryDecision(toFailure(new OutputTooLargeError('too long')), task(0), options)).toEqual({ canRetry: true, delayMs: null });
  });
});
