/**
 * When a failed attempt is tried again, per error class, as data. Delays are the base
 * schedule; `retryDelayMs` scales them (RETRY_DELAY_SCALE) and adds up to +10 % jitter.
 */
import type { ScheduledErrorClass } from './errors.ts';

export type { ScheduledErrorClass };

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Base delays before retry 1, 2, 3, ...; the last one repeats. Empty: never retried. */
export const RETRY_SCHEDULES_MS: Readonly<Record<ScheduledErrorClass, readonly number[]>> = {
  INSUFFICIENT_CREDITS: [5 * MINUTE, 10 * MINUTE, 30 * MINUTE],
  RATE_LIMIT: [1 * MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE],
  MODEL_WARMUP: [30 * SECOND, 1 * MINUTE, 2 * MINUTE, 5 * MINUTE],
  SERVICE_UNAVAILABLE: [5 * SECOND, 10 * SECOND, 30 * SECOND, 1 * MINUTE, 2 * MINUTE],
  NETWORK_TIMEOUT: [2 * SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND, 1 * MINUTE],
  PROVIDER_ERROR: [10 * SECOND, 30 * SECOND, 1 * MINUTE, 3 * MINUTE],
  CONTENT_FILTER: [],
  PERMANENT: [],
  // A model that writes past the cap once will likely do so again: an operator decides.
  OUTPUT_TOO_LARGE: [],
  // One request larger than the whole in-flight budget cannot succeed as it is.
  REQUEST_OVER_BUDGET: [],
  INTERNAL: [2 * SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND],
};

export const MAX_JITTER_RATIO = 0.1;

/** One class's retry rule: its delays, and optionally its own retry limit. */
export interface ClassRetryRule {
  delaysMs: readonly number[];
  /** Overrides the task's MAX_RETRIES for this class; null: the task's own limit. */
  maxRetries: number | null;
}
export type RetryPolicy = Readonly<Record<ScheduledErrorClass, ClassRetryRule>>;

/**
 * The default schedules, with per-class overrides (RETRY_SCHEDULES) applied over them.
 * A class left out keeps its default; `maxRetries` alone keeps the default delays.
 */
export function createRetryPolicy(overrides: Partial<Record<ScheduledErrorClass, Partial<ClassRetryRule>>> = {}): RetryPolicy {
  const policy = {} as Record<ScheduledErrorClass, ClassRetryRule>;
  for (const errorClass of Object.keys(RETRY_SCHEDULES_MS) as ScheduledErrorClass[]) {
    const override = overrides[errorClass] ?? {};
    policy[errorClass] = {
      delaysMs: override.delaysMs ?? RETRY_SCHEDULES_MS[errorClass],
      maxRetries: override.maxRetries ?? null,
    };
  }
  return policy;
}

/** How many retries a task that failed with `errorClass` may have in all. */
export function retryLimitFor(errorClass: ScheduledErrorClass, taskMaxRetries: number, policy: RetryPolicy): number {
  return policy[errorClass].maxRetries ?? taskMaxRetries;
}

export interface RetryDelayOptions {
  /** Multiplies every delay (RETRY_DELAY_SCALE). Default 1. */
  scale?: number;
  /** A number in [0, 1); injected so tests are deterministic. Default Math.random. */
  random?: () => number;
  /** A provider-given minimum (Retry-After), in ms, applied before scaling. */
  atLeastMs?: number;
  /** The schedules to use. Default: the built-in ones. */
  policy?: RetryPolicy;
}

/**
 * Delay before retry number `retryNumber` (1-based) of a task that failed with
 * `errorClass`, or null when the class is never retried.
 */
export function retryDelayMs(
  errorClass: ScheduledErrorClass,
  retryNumber: number,
  options: RetryDelayOptions = {},
): number | null {
  const schedule = options.policy ? options.policy[errorClass].delaysMs : RETRY_SCHEDULES_MS[errorClass];
  if (schedule.length === 0) return null;
  const base = schedule[Math.min(Math.max(retryNumber, 1), schedule.length) - 1]!;
  const withFloor = Math.max(base, options.atLeastMs ?? 0);
  const jitter = 1 + MAX_JITTER_RATIO * (options.random ?? Math.random)();
  return Math.round(withFloor * jitter * (options.scale ?? 1));
}
