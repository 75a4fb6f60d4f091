/**
 * Checks the provider in the background and records what it found in Redis for the API:
 * OpenRouter's key endpoint says whether the key is valid and how much credit is left. One
 * worker checks per interval (a lock in Redis), whoever's turn it is.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { Channels, publication } from '../schema/src/channels.ts';
import { ProviderState, type ProviderStatusSnapshot } from '../schema/src/provider-status.ts';
import { providerCheckHash } from '../schema/src/worker-hashes.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';

export interface ProviderStatusOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  /** null: no key, the embedded summarizer is in use. */
  openRouter: { apiKey: string; baseUrl: string } | null;
  /** A remote provider was configured without a key (the embedded summarizer stands in). */
  keyMissing: boolean;
  intervalMs: number;
  timeoutMs: number;
}

interface KeyInfo {
  data?: { usage?: number; limit?: number | null; limit_remaining?: number | null };
}

/** Asks OpenRouter's key endpoint; never throws (a failure is a state). */
export async function checkOpenRouter(openRouter: { apiKey: string; baseUrl: string }, timeoutMs: number): Promise<Omit<ProviderStatusSnapshot, 'checkedAt' | 'rateLimitedUntil'>> {
  try {
    const response = await fetch(`${openRouter.baseUrl}/key`, {
      headers: { authorization: `Bearer ${openRouter.apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 401 || response.status === 403) return { state: ProviderState.KEY_INVALID, creditsRemaining: null };
    if (response.status === 402) return { state: ProviderState.CREDITS_EXHAUSTED, creditsRemaining: 0 };
    if (!response.ok) return { state: ProviderState.UNAVAILABLE, creditsRemaining: null };
    const info = (await response.json()) as KeyInfo;
    const limit = info.data?.limit ?? null;
    const remaining = info.data?.limit_remaining ?? (limit === null ? null : limit - (info.data?.usage ?? 0));
    // A key without a limit, or with credit left (zero usage included), is active.
    if (remaining !== null && remaining <= 0) return { state: ProviderState.CREDITS_EXHAUSTED, creditsRemaining: remaining };
    return { state: ProviderState.ACTIVE, creditsRemaining: remaining };
  } catch {
    return { state: ProviderState.UNAVAILABLE, creditsRemaining: null };
  }
}

export function startProviderStatusChecks(options: ProviderStatusOptions) {
  const { redis, keys, logger } = options;

  async function check(): Promise<void> {
    const turn = await redis.set(keys.providerStatusLock(), '1', 'PX', options.intervalMs, 'NX');
    if (!turn) return;
    const found = options.openRouter
      ? await checkOpenRouter(options.openRouter, options.timeoutMs)
      : { state: options.keyMissing ? ProviderState.KEY_MISSING : ProviderState.LOCAL, creditsRemaining: null };
    await redis
      .multi()
      .hset(keys.providerStatus(), providerCheckHash.encode({ ...found, checkedAt: Date.now() }))
      .publish(...publication(keys, Channels.provider, found.state))
      .exec();
    logger.debug({ state: found.state }, 'provider checked');
  }

  const tick = () => void check().catch((error: Error) => logger.warn({ err: error.message }, 'provider check failed'));
  tick();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return { check, dispose: () => clearInterval(timer) };
}
