/**
 * What the dispatch audits need of each accepted task, read from Redis after the run: its
 * tenant, priority and place in its tenant's line, when it was submitted, and every claim of
 * an attempt (from its event history, by Redis' clock), so when each attempt started.
 */
import type { Redis } from 'ioredis';
import { PRIORITY_SHIFT, type TaskPriority } from '../schema/src/dispatch.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { TERMINAL_STATES, type TaskState } from '../schema/src/task.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';

/** A claim of an attempt: the moment it started running. */
export interface Claim {
  attempt: number;
  at: number;
}

export interface TaskHistory {
  id: string;
  tenant: string;
  priority: TaskPriority;
  /** When it was accepted (epoch ms, Redis' clock). */
  submittedAt: number;
  /**
   * Its place in its tenant's line of new tasks: the submit order moved by its priority
   * (PRIORITY_OFFSET_MS earlier for HIGH, later for LOW), as the dispatcher orders it.
   */
  rank: number;
  /** Every claim, in order; the first is the task's first start. */
  claims: Claim[];
  /** When it stopped waiting without ever starting (cancelled while waiting); null if it started or never ended. */
  endedUnstartedAt: number | null;
}

const CLAIM_REASONS: ReadonlySet<string> = new Set([TransitionReason.CLAIMED, TransitionReason.RESUMED_AFTER_SHUTDOWN, TransitionReason.RECLAIMED_AFTER_LEASE_EXPIRY]);
const BATCH = 200;

/** The histories of `ids` (a task without a record is left out: I1 reports it). */
export async function readTaskHistories(redis: Redis, keys: RedisKeys, ids: readonly string[], priorityOffsetMs: number): Promise<TaskHistory[]> {
  const histories: TaskHistory[] = [];
  for (let from = 0; from < ids.length; from += BATCH) {
    const batch = ids.slice(from, from + BATCH);
    const pipeline = redis.pipeline();
    for (const id of batch) {
      pipeline.hmget(keys.task(id), 'tenant', 'priority', 'createdAt', 'order', 'state', 'updatedAt');
      pipeline.xrange(keys.taskEvents(id), '-', '+');
    }
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((id, i) => {
      const [error, fields] = replies[2 * i]!;
      const [eventsError, events] = replies[2 * i + 1]!;
      if (error || eventsError) throw error ?? eventsError;
      const [tenant, priority, createdAt, order, state, updatedAt] = fields as (string | null)[];
      if (!tenant) return;
      const claims = claimsOf(events as [string, string[]][]);
      const taskPriority = (priority ?? 'NORMAL') as TaskPriority;
      histories.push({
        id,
        tenant,
        priority: taskPriority,
        submittedAt: Number(createdAt),
        // The stored order is the submit time in µs (plus a sequence number), as the dispatcher's.
        rank: Number(order) + PRIORITY_SHIFT[taskPriority] * priorityOffsetMs * 1000,
        claims,
        endedUnstartedAt: claims.length === 0 && TERMINAL_STATES.has(state as TaskState) ? Number(updatedAt) : null,
      });
    });
  }
  return histories;
}

/** The claims in a task's event stream (entries `field, value, ...`; the task itself as JSON in `task`). */
function claimsOf(events: [string, string[]][]): Claim[] {
  const claims: Claim[] = [];
  for (const [, flat] of events) {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
    const field = (name: string) => fields.get(name);
    if (field('state') !== 'ACTIVE' || !CLAIM_REASONS.has(field('reason') ?? '')) continue;
    const task = JSON.parse(field('task') ?? '{}') as { attempt?: string | number };
    claims.push({ attempt: Number(task.attempt), at: Number(field('at')) });
  }
  return claims;
}
