/** The provider's status as the workers last checked it, and a live view of it. */
import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { Channels } from '../../schema/src/channels.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { ProviderState, type ProviderStatusSnapshot } from '../../schema/src/provider-status.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { providerCheckHash } from '../../schema/src/worker-hashes.ts';
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
    const last = providerCheckHash.decode(fields);
    // No worker has checked yet: nothing is known to work.
    const checked = last?.state ?? ProviderState.UNAVAILABLE;
    const rateLimitedUntil = pausedUntil && Number(pausedUntil) > now ? Number(pausedUntil) : null;
    return {
      state: rateLimitedUntil !== null && !OUTRANKS_RATE_LIMIT.has(checked) ? ProviderState.RATE_LIMITED : checked,
      creditsRemaining: last?.creditsRemaining ?? null,
      rateLimitedUntil,
      checkedAt: last?.checkedAt ?? now,
    };
  }

  const feed = createSharedFeed({
    name: 'provider status',
    logger: options.logger,
    compute: status,
    listen: (onHint) => options.events.on(Channels.provider, onHint),
    coalesceMs: options.coalesceMs,
    resyncIntervalMs: options.resyncIntervalMs,
  });

  return { status, watch: feed.watch, dispose: feed.dispose };
}
