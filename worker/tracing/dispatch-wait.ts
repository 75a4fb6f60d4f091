/**
 * How a task waited for the attempt just claimed, read back from its event stream: the claim's
 * own event (when it was claimed, why, when the task joined its tenant's line) and the one
 * before it (when the wait began, and the reason the record gave: a retry delay, a spent budget,
 * an open breaker, a provider hold). One XRANGE of two entries per attempt, only with tracing on.
 *
 * The claim clears the record's `waitReason`, so the reason comes from the event before it; a
 * reason the dispatcher only works out on request (TENANT_CAP, PROVIDER_TOKENS) is not stored
 * and shows as QUEUED (docs/observability.md).
 */
import type { Redis } from 'ioredis';
import { WaitReason } from '../../schema/src/dispatch.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';

export interface DispatchWait {
  /** When the task began to wait for this attempt (ms, Redis' clock). */
  since: number;
  /** When it was claimed. */
  claimedAt: number;
  /** When it joined its tenant's line, or null when the record does not say. */
  queuedAt: number | null;
  /** A WaitReason, or LEASE: the previous attempt's lease had to run out (or be handed back). */
  reason: string;
  /** The claim's transition reason (TransitionReason: `claimed`, `reclaimed after lease expiry`, ...). */
  claimReason: string | null;
}

interface EventEntry {
  at: number;
  state: string;
  reason: string;
  task: Record<string, unknown>;
}

function entryOf(fields: string[]): EventEntry | null {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const at = Number(map.get('at'));
  if (!Number.isFinite(at)) return null;
  let task: Record<string, unknown> = {};
  try {
    task = JSON.parse(map.get('task') ?? '{}') as Record<string, unknown>;
  } catch {
    // a malformed payload tells no queue time; the rest still holds
  }
  return { at, state: map.get('state') ?? '', reason: map.get('reason') ?? '', task };
}

const numberOf = (value: unknown): number | null => {
  const number = typeof value === 'string' && value !== '' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(number) ? number : null;
};

/** Works out the wait from the claim's event (`version`) and the one before it. */
export function dispatchWaitOf(entries: [string, string[]][], version: number): DispatchWait | null {
  const byId = new Map(entries.map(([id, fields]) => [id, entryOf(fields)]));
  const claim = byId.get(`0-${version}`);
  if (!claim) return null;
  const before = byId.get(`0-${version - 1}`) ?? null;
  const queued = numberOf(claim.task.queuedAt);
  const since = Math.min(before?.at ?? queued ?? claim.at, claim.at);
  // A queue time from an earlier wait (a claim that did not come through the line) is not this one's.
  const queuedAt = queued !== null && queued >= since && queued <= claim.at ? queued : null;
  const storedReason = typeof before?.task.waitReason === 'string' && before.task.waitReason !== '' ? before.task.waitReason : null;
  return {
    since,
    claimedAt: claim.at,
    queuedAt,
    reason: storedReason ?? (before?.state === 'ACTIVE' ? 'LEASE' : WaitReason.QUEUED),
    claimReason: claim.reason || null,
  };
}

/** The reader the attempt tracer uses. */
export function createDispatchWaitReader(redis: Redis, keys: RedisKeys) {
  return async (taskId: string, version: number): Promise<DispatchWait | null> => {
    const entries = (await redis.xrange(keys.taskEvents(taskId), `0-${Math.max(0, version - 1)}`, `0-${version}`)) as [string, string[]][];
    return dispatchWaitOf(entries, version);
  };
}
