import { describe, expect, it } from 'vitest';
import { createRetryPolicy, MAX_JITTER_RATIO, RETRY_SCHEDULES_MS, retryDelayMs, retryLimitFor, type ScheduledErrorClass } from './retry-policy.ts';
import { ErrorClass } from './task.ts';

describe('retryDelayMs', () => {
  it('follows each class schedule, repeating the last delay', () => {
    const noJitter = { random: () => 0 };
    expect(retryDelayMs(ErrorClass.SERVICE_UNAVAILABLE, 1, noJitter)).toBe(5_000);
    expect(retryDelayMs(ErrorClass.SERVICE_UNAVAILABLE, 3, noJitter)).toBe(30_000);
    expect(retryDelayMs(ErrorClass.INSUFFICIENT_CREDITS, 9, noJitter)).toBe(30 * 60_000);
  });

  it('never retries CONTENT_FILTER or PERMANENT', () => {
    expect(retryDelayMs(ErrorClass.CONTENT_FILTER, 1)).toBeNull();
    expect(retryDelayMs(ErrorClass.PERMANENT, 1)).toBeNull();
  });

  it('adds at most +10 % jitter and scales the result', () => {
    for (const [errorClass, schedule] of Object.entries(RETRY_SCHEDULES_MS) as [ScheduledErrorClass, readonly number[]][]) {
      const base = schedule[0];
      if (base === undefined) continue;
      expect(retryDelayMs(errorClass, 1, { random: () => 0.999 })).toBeLessThanOrEqual(Math.round(base * (1 + MAX_JITTER_RATIO)));
      expect(retryDelayMs(errorClass, 1, { random: () => 0 })).toBe(base);
    }
    expect(retryDelayMs(ErrorClass.NETWORK_TIMEOUT, 1, { scale: 0.001, random: () => 0 })).toBe(2);
  });

  it('honours a longer provider-given minimum', () => {
    expect(retryDelayMs(ErrorClass.RATE_LIMIT, 1, { atLeastMs: 120_000, random: () => 0 })).toBe(120_000);
    expect(retryDelayMs(ErrorClass.RATE_LIMIT, 1, { atLeastMs: 1_000, random: () => 0 })).toBe(60_000);
  });
});

describe('STALLED', () => {
  // A failed attempt cannot be STALLED (ScheduledErrorClass): the claim script takes a stalled
  // task over at once, within the task's own limit.
  it('has no schedule; every other class has one', () => {
    expect(Object.keys(RETRY_SCHEDULES_MS).sort()).toEqual(Object.values(ErrorClass).filter((c) => c !== ErrorClass.STALLED).sort());
  });
});

describe('createRetryPolicy', () => {
  it('applies per-class overrides over the defaults', () => {
    const policy = createRetryPolicy({ RATE_LIMIT: { maxRetries: 6 }, SERVICE_UNAVAILABLE: { delaysMs: [1000], maxRetries: 1 } });
    expect(policy.RATE_LIMIT).toEqual({ delaysMs: RETRY_SCHEDULES_MS.RATE_LIMIT, maxRetries: 6 });
    expect(policy.SERVICE_UNAVAILABLE).toEqual({ delaysMs: [1000], maxRetries: 1 });
    expect(policy.PERMANENT).toEqual({ delaysMs: [], maxRetries: null });
    expect(retryLimitFor(ErrorClass.RATE_LIMIT, 3, policy)).toBe(6);
    expect(retryLimitFor(ErrorClass.NETWORK_TIMEOUT, 3, policy)).toBe(3);
    expect(retryDelayMs(ErrorClass.SERVICE_UNAVAILABLE, 4, { policy, random: () => 0 })).toBe(1000);
  });
});
