/** The provider's status as the workers last checked it, and a live view of it. */
import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { ProviderState, type ProviderStatusSnapshot } from '../../schema/src/provider-status.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import { createSharedFeed } from './shared-feed.ts';

export interface ProviderServiceOptions {
  redis: Redis;
  keys: RedisKeys;
  events: TaskEventBus;
  logger: Logger;
  coalesceMs: number;
  resyncIntervalMs: number;
}

export type ProviderService = ReturnType<typeof createProviderService>;

const KNOWN_STATES = new Set<string>(Object.values(ProviderState));
// A held rate limit matters less than a key that does not work or has no credit.
const OUTRANKS_RATE_LIMIT = new Set<ProviderState>([ProviderState.KEY_INVALID, ProviderState.KEY_MISSING, ProviderState.CREDITS_EXHAUSTED]);

export function createProviderService(options: ProviderServiceOptions) {
  const { redis, keys } = options;

  async function status(): Promise<ProviderStatusSnapshot> {
    let fields: Record<string, string>;
    let pausedUntil: string | null;
    try {
      [fields, pausedUntil] = await Promise.all([redis.hgetall(keys.providerStatus()), redis.get(keys.providerPausedUntil())]);
    } catch (cause) {
      throw new AppError(ErrorCode.UNAVAILABLE, 'provider status is unavailable; try again', { retryable: true, cause });
    }
    const now = Date.now();
    // No worker has checked yet: nothing is known to work.
    const checked: ProviderState = fields.state && KNOWN_STATES.has(fields.state) ? (fields.state as ProviderState) : ProviderState.UNAVAILABLE;
    const rateLimitedUntil = pausedUntil && Number(pausedUntil) > now ? Number(pausedUntil) : null;
    return {
      state: rateLimitedUntil !== null && !OUTRANKS_RATE_LIMIT.has(checked) ? ProviderState.RATE_LIMITED : checked,
      creditsRemaining: fields.creditsRemaining ? Number(fields.creditsRemaining) : null,
      rateLimitedUntil,
      checkedAt: fields.checkedAt ? Number(fields.checkedAt) : now,
    };
  }

  const feed = createSharedFeed({
    name: 'provider status',
    logger: options.logger,
    compute: status,
    listen: (onHint) => options.events.onProviderCheck(onHint),
    coalesceMs: options.coalesceMs,
    resyncIntervalMs: options.resyncIntervalMs,
  });

  return { status, watch: feed.watch, dispose: feed.dispose };
}
