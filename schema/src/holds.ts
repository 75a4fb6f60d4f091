/**
 * Holds: a task deferred (SCHEDULED, no retry counted) because something outside it said wait,
 * where that something can end early. A breaker an operator resets, a rate-limit pause an
 * operator lifts or a limit raised. The defer script (scripts/lifecycle.ts) indexes such a task
 * under its hold (`RedisKeys.tasksHeld`, id -> when its deferral ends); whoever sees the hold
 * end takes the entries (`TAKE_HELD`, or the rate limit's `TAKE_LIFTED_HOLDS`) and releases
 * each task through `taskReleaseHold` (scripts/held.ts), which checks it is still held by that
 * same deferral. No I/O here.
 *
 * An entry is not removed when its task leaves SCHEDULED (the claim script does not know the
 * index): entries whose deferral has ended are dropped by the next defer, take or check, and a
 * stale one is refused by the release's check.
 */
import { TransitionReason } from './transition-reasons.ts';

export const Hold = { CIRCUIT: 'circuit', RATE_LIMIT: 'rate-limit' } as const;
export type Hold = (typeof Hold)[keyof typeof Hold];

/** The hold a deferral for `reason` waits on, or null for one nothing can end early (a budget). */
export function holdOf(reason: TransitionReason): Hold | null {
  if (reason === TransitionReason.CIRCUIT_OPEN) return Hold.CIRCUIT;
  // An in-flight budget hold is the same pause as a 429's: lifting it releases both.
  if (reason === TransitionReason.RATE_LIMITED || reason === TransitionReason.PROVIDER_HOLD) return Hold.RATE_LIMIT;
  return null;
}

/** A held task as its index entry has it: its id and when its deferral ends (Redis ms). */
export interface HeldEntry {
  taskId: string;
  due: number;
}

/**
 * Takes every entry of a hold's index whose deferral has not ended yet, and empties the index,
 * in one step: of several workers releasing the same hold, one gets the entries.
 * KEYS[1] the hold's index.  Replies {id, due, id, due, ...}.
 */
export const TAKE_HELD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
redis.call('DEL', KEYS[1])
return held
`;

/** The entries of a `TAKE_HELD` (or `TAKE_LIFTED_HOLDS`) reply. */
export function decodeHeldEntries(reply: unknown): HeldEntry[] {
  if (!Array.isArray(reply)) throw new Error('unexpected held entries reply');
  const entries: HeldEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ taskId: String(reply[i]), due: Number(reply[i + 1]) });
  return entries;
}
