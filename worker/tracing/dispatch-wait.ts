/**
 * How a task waited for the attempt just claimed, from the claim's own reply
 * (`ClaimedTask.waited`: the record as it was before the claim changed it), so tracing reads
 * nothing for it: the wait began at the record's last change (the submit, the failure that
 * scheduled the retry, the deferral, the lost attempt's last write), for the reason the record
 * gave (a retry delay, a spent budget, an open breaker, a provider hold), LEASE when the task
 * was ACTIVE (its last attempt's lease had to run out or be handed back), else QUEUED. A reason
 * the dispatcher only works out on request (TENANT_CAP, PROVIDER_TOKENS) is not stored and shows
 * as QUEUED (docs/observability.md).
 *
 * The claim's own reason (TransitionReason) follows from the state it left: `claimed` from
 * PENDING or SCHEDULED. A takeover (from ACTIVE) is one of two, which the reply does not tell,
 * so a takeover alone reads its claim's event: one XRANGE of one entry, for a rare attempt.
 */
import type { Redis } from 'ioredis';
import { WaitReason } from '../../schema/src/dispatch.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { ClaimWait } from '../../schema/src/scripts/claim.ts';
import { TaskState } from '../../schema/src/task.ts';
import { TransitionReason } from '../../schema/src/transition-reasons.ts';

/** Why a takeover's claim was made (`reclaimed after lease expiry`, `resumed after ...`), or null when it cannot be told. */
export type ClaimReasonReader = (taskId: string, version: number) => Promise<string | null>;

export interface DispatchWait {
  /** When the task began to wait for this attempt (ms, Redis' clock). */
  since: number;
  /** When it was claimed (ms, the worker's clock: when the claim's reply came back). */
  claimedAt: number;
  /** When it joined its tenant's line, or null when the record does not say. */
  queuedAt: number | null;
  /** A WaitReason, or LEASE: the previous attempt's lease had to run out (or be handed back). */
  reason: string;
}

/** Whether the claim took the task over from another attempt (its reason then needs reading). */
export const isTakeover = (waited: ClaimWait): boolean => waited.fromState === TaskState.ACTIVE;

/** The wait the claim's reply describes (it came back at `claimedAt`); null when the record had no time to tell. */
export function dispatchWaitOf(waited: ClaimWait, claimedAt: number): DispatchWait | null {
  const began = waited.since ?? waited.queuedAt;
  if (began === null) return null;
  // A worker clock behind Redis' must not end the wait before it began.
  const since = Math.min(began, claimedAt);
  const end = Math.max(claimedAt, since);
  // A queue time from an earlier wait (a claim that did not come through the line) is not this one's.
  const queuedAt = waited.queuedAt !== null && waited.queuedAt >= since && waited.queuedAt <= end ? waited.queuedAt : null;
  return {
    since,
    claimedAt: end,
    queuedAt,
    reason: waited.reason ?? (isTakeover(waited) ? 'LEASE' : WaitReason.QUEUED),
  };
}

/** The claim reason of a claim that was not a takeover. */
export const PLAIN_CLAIM_REASON: string = TransitionReason.CLAIMED;

/** Reads a takeover's claim reason from its claim's event (entry `0-<version>` of the task's stream). */
export function createClaimReasonReader(redis: Redis, keys: RedisKeys): ClaimReasonReader {
  return async (taskId, version) => {
    const [entry] = (await redis.xrange(keys.taskEvents(taskId), `0-${version}`, `0-${version}`)) as [string, string[]][];
    const fields = entry?.[1] ?? [];
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'reason') return fields[i + 1] || null;
    return null;
  };
}
