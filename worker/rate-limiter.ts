/**
 * The provider rate limit every worker shares (PROVIDER_RATE_LIMIT, or an operator's override
 * in Redis, re-read every few seconds so a change needs no restart), and the pause every
 * worker honours after a 429 with Retry-After. Both live in Redis; see schema/src/rate-limit.ts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { decodeHeldEntries, Hold, type HeldEntry } from '../schema/src/holds.ts';
import { PAUSE_PROVIDER, parseRateLimit, TAKE_LIFTED_HOLDS, TAKE_PROVIDER_TOKEN, TAKE_PROVIDER_TOKEN_WRITING_AHEAD, type RateLimit } from '../schema/src/rate-limit.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';

export interface ProviderRateLimiterOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  /** PROVIDER_RATE_LIMIT; null: no limit (the 429 pause still applies). */
  defaultLimit: RateLimit | null;
  /** Waits up to this long in place for a token; longer waits defer the task instead. */
  maxWaitMs: number;
  /** How often the override in Redis is re-read. */
  refreshMs: number;
}

export type Permit = { granted: true } | { granted: false; waitMs: number };
export type ProviderRateLimiter = ReturnType<typeof createProviderRateLimiter>;

// Without a limit the bucket never runs dry; the script still enforces the 429 pause.
const UNLIMITED: RateLimit = { capacity: 1_000_000_000, windowMs: 1000 };

export function createProviderRateLimiter(options: ProviderRateLimiterOptions) {
  const { redis, keys, logger } = options;
  redis.defineCommand('atfTakeProviderToken', { numberOfKeys: 2, lua: TAKE_PROVIDER_TOKEN });
  redis.defineCommand('atfTakeProviderTokenWritingAhead', { numberOfKeys: 3, lua: TAKE_PROVIDER_TOKEN_WRITING_AHEAD });
  redis.defineCommand('atfPauseProvider', { numberOfKeys: 1, lua: PAUSE_PROVIDER });
  redis.defineCommand('atfTakeLiftedHolds', { numberOfKeys: 3, lua: TAKE_LIFTED_HOLDS });
  const commands = redis as unknown as {
    atfTakeProviderToken(bucket: string, pausedUntil: string, capacity: number, windowMs: number): Promise<number>;
    atfTakeProviderTokenWritingAhead(bucket: string, pausedUntil: string, pending: string, capacity: number, windowMs: number, callId: string, record: string): Promise<number>;
    atfPauseProvider(pausedUntil: string, ms: number): Promise<number>;
    atfTakeLiftedHolds(bucket: string, pausedUntil: string, held: string, capacity: number, windowMs: number, slackMs: number, max: number): Promise<unknown>;
  };

  let limit = options.defaultLimit;
  let checkedAt = 0;
  /** The limit in force, re-read when the last read is older than `maxAgeMs`. */
  async function currentLimit(maxAgeMs = options.refreshMs): Promise<RateLimit> {
    if (Date.now() - checkedAt >= maxAgeMs) {
      checkedAt = Date.now();
      const override = await redis.get(keys.providerRateLimit()).catch(() => null);
      try {
        limit = override ? parseRateLimit(override) : options.defaultLimit;
      } catch {
        logger.warn({ override }, 'ignoring an unreadable provider rate limit override');
        limit = options.defaultLimit;
      }
    }
    return limit ?? UNLIMITED;
  }

  return {
    /**
     * A token for one provider call: now, after a short wait, or the time to come back. With
     * `writeAhead`, the same script writes the call's record as under way when the token is
     * granted (`RedisKeys.usagePending`), and only then.
     */
    async acquire(signal: AbortSignal, writeAhead?: { callId: string; record: string }): Promise<Permit> {
      for (;;) {
        signal.throwIfAborted();
        const { capacity, windowMs } = await currentLimit();
        const waitMs = Number(
          writeAhead
            ? await commands.atfTakeProviderTokenWritingAhead(keys.providerBucket(), keys.providerPausedUntil(), keys.usagePending(), capacity, windowMs, writeAhead.callId, writeAhead.record)
            : await commands.atfTakeProviderToken(keys.providerBucket(), keys.providerPausedUntil(), capacity, windowMs),
        );
        if (waitMs <= 0) return { granted: true };
        if (waitMs > options.maxWaitMs) return { granted: false, waitMs };
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
    /**
     * Takes the tasks held for the rate limit whose deferral ends later than a call could go now
     * (their hold was lifted: the pause cleared, the limit raised), at most as many as the
     * limit lets through in one window. The limit is re-read if older than `limitMaxAgeMs`.
     */
    async takeLiftedHolds(limitMaxAgeMs: number): Promise<HeldEntry[]> {
      const { capacity, windowMs } = await currentLimit(limitMaxAgeMs);
      // Slack: a deferral ends about when its token is due (its wait + 10 ms); only a real lift moves it.
      const reply = await commands.atfTakeLiftedHolds(keys.providerBucket(), keys.providerPausedUntil(), keys.tasksHeld(Hold.RATE_LIMIT), capacity, windowMs, 250, capacity);
      return decodeHeldEntries(reply);
    },
    /** Holds every worker's provider calls for `ms` (a 429's Retry-After). */
    async pause(ms: number): Promise<void> {
      await commands.atfPauseProvider(keys.providerPausedUntil(), Math.max(1, Math.round(ms)));
    },
  };
}
