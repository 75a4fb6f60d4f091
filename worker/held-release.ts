/**
 * Releases held tasks (schema/src/holds.ts) when their hold ends early, so they start within
 * a pull instead of waiting out their deferral:
 * - a breaker reset: every worker that applies an operator's reset takes the breaker's index
 *   (one of them gets the entries) and releases each task; a task this worker deferred while
 *   the reset was landing is released on its own (`onDeferred`).
 * - a rate-limit hold lifted (the pause deleted or cut short, the limit raised): nothing
 *   announces it, so a worker that deferred tasks for the rate limit looks every `checkMs`
 *   until their deferrals end, and releases those whose deferral now ends later than a call
 *   could go. Only while it has such deferrals: an idle worker polls nothing.
 * A release is fenced by the deferral it ends (scripts/held.ts): releasing twice, or a task
 * that moved on, changes nothing.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { decodeHeldEntries, Hold, TAKE_HELD, type HeldEntry } from '../schema/src/holds.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import type { ProviderRateLimiter } from './rate-limiter.ts';
import type { TaskStore } from './task-store.ts';

export interface HeldReleaseOptions {
  redis: Redis;
  keys: RedisKeys;
  store: TaskStore;
  logger: Logger;
  /** The shared rate limit; null when this worker's provider has none (nothing to watch). */
  rateLimiter: ProviderRateLimiter | null;
  /** How often a worker holding rate-limited deferrals looks for a lifted hold. Default 250 ms. */
  checkMs?: number;
}

/** A deferral the runner just wrote: which task, at which attempt, due when. */
export interface Deferral extends HeldEntry {
  tenant: string;
  attempt: number;
}

export type HeldRelease = ReturnType<typeof createHeldRelease>;

export function createHeldRelease(options: HeldReleaseOptions) {
  const { redis, keys, store, logger } = options;
  const checkMs = options.checkMs ?? 250;
  redis.defineCommand('atfTakeHeld', { numberOfKeys: 1, lua: TAKE_HELD });
  const takeHeld = (hold: Hold) => (redis as unknown as { atfTakeHeld(key: string): Promise<unknown> }).atfTakeHeld(keys.tasksHeld(hold));

  /** Releases `entries` (their tenant and attempt read in one round trip); resolves with how many were released. */
  async function release(entries: HeldEntry[], reason: TransitionReason): Promise<number> {
    if (entries.length === 0) return 0;
    const pipeline = redis.pipeline();
    for (const entry of entries) pipeline.hmget(keys.task(entry.taskId), 'tenant', 'attempt');
    const rows = (await pipeline.exec()) ?? [];
    const outcomes = await Promise.all(
      entries.map(async (entry, i) => {
        const [error, values] = rows[i] ?? [null, null];
        const [tenant, attempt] = (values ?? []) as (string | null)[];
        // Deleted since it was deferred: nothing to release.
        if (error || !tenant || !attempt) return false;
        const outcome = await store.releaseHold({ ...entry, tenant, attempt: Number(attempt) }, reason);
        return outcome.status === 'released';
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  let watchUntil = 0;
  let timer: NodeJS.Timeout | null = null;
  let checking = false;
  let disposed = false;

  async function checkRateLimit(): Promise<void> {
    if (!options.rateLimiter) return;
    // The limit is read at most twice a second: a raised limit is seen within that.
    const lifted = await options.rateLimiter.takeLiftedHolds(Math.max(500, checkMs));
    const released = await release(lifted, TransitionReason.RELEASED_RATE_LIMIT_LIFTED);
    if (released > 0) logger.info({ released }, 'rate-limit hold lifted: held tasks released');
  }

  function stopWatching(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  return {
    /**
     * After an operator's breaker reset (or a model breaker that closed: `reason`): releases every
     * task held for a breaker. Resolves with how many.
     */
    async releaseCircuitHolds(reason: TransitionReason = TransitionReason.RELEASED_BY_CIRCUIT_RESET): Promise<number> {
      return release(decodeHeldEntries(await takeHeld(Hold.CIRCUIT)), reason);
    },
    /**
     * Told of each deferral this worker wrote for a hold. `stillHeld` says whether the hold is
     * still in force here now: a breaker reset between the decision to defer and its write
     * leaves a task no reset will release, so it is released at once.
     */
    async onDeferred(deferral: Deferral, hold: Hold, stillHeld: boolean): Promise<void> {
      if (hold === Hold.CIRCUIT) {
        if (!stillHeld) await store.releaseHold(deferral, TransitionReason.RELEASED_BY_CIRCUIT_RESET);
        return;
      }
      // A worker shutting down may still defer; it starts no watch.
      if (!options.rateLimiter || disposed) return;
      watchUntil = Math.max(watchUntil, deferral.due);
      timer ??= setInterval(() => {
        if (Date.now() > watchUntil) return stopWatching();
        if (checking) return;
        checking = true;
        checkRateLimit()
          .catch((error: Error) => logger.warn({ err: error.message }, 'rate-limit hold check failed'))
          .finally(() => {
            checking = false;
          });
      }, checkMs);
      timer.unref();
    },
    dispose(): void {
      disposed = true;
      stopWatching();
    },
  };
}
