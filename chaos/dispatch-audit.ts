/**
 * The fair dispatcher's invariants in a chaos run (docs/chaos.md): no cap ever exceeded
 * (chaos/cap-audit.ts) and no task starved past its bound (chaos/starvation-audit.ts), from
 * the lease samples taken during the run, the admin's policy changes, and each task's history.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { auditCaps, type CapStats } from './cap-audit.ts';
import type { LeaseSample } from './lease-sampler.ts';
import type { PolicyChange, PolicyKind } from './policies.ts';
import { auditStarvation, type BoundTerms, type StarvationResult } from './starvation-audit.ts';
import { readTaskHistories } from './task-history.ts';

/** Every list must be empty for the run to pass. */
export interface DispatchProblems {
  /** Samples that found a tenant over its cap with an attempt started after the cap was set. */
  caps: string[];
  /** Tasks that waited past their bound. */
  starvation: string[];
}

export interface DispatchStats {
  /** Accepted tasks per tenant and priority. */
  tenants: { tenant: string; byPriority: Record<string, number> }[];
  policies: Record<PolicyKind, number>;
  leaseSamples: number;
  caps: CapStats[];
  starvation: Omit<StarvationResult, 'problems'>;
}

export interface DispatchAuditInput {
  redis: Redis;
  keys: RedisKeys;
  ids: readonly string[];
  tenants: readonly string[];
  samples: readonly LeaseSample[];
  changes: readonly PolicyChange[];
  policyCounts: Record<PolicyKind, number>;
  priorityOffsetMs: number;
  /** What the starvation bound is made of. */
  bound: BoundTerms;
}

/** Reads every task's history and checks both invariants. */
export async function auditDispatch(input: DispatchAuditInput): Promise<{ stats: DispatchStats; problems: DispatchProblems }> {
  const histories = await readTaskHistories(input.redis, input.keys, input.ids, input.priorityOffsetMs);
  const claimed = new Map<string, number>(histories.flatMap((task) => task.claims.map((claim) => [`${task.id}:${claim.attempt}`, claim.at] as const)));
  const caps = auditCaps({ tenants: input.tenants, samples: input.samples, changes: input.changes, claimedAt: (attempt) => claimed.get(attempt) });
  const { problems: starvation, ...starvationStats } = auditStarvation({
    histories,
    tenants: input.tenants,
    samples: input.samples,
    changes: input.changes,
    auditAt: Date.now(),
    bound: input.bound,
  });
  const tenants = input.tenants.map((tenant) => {
    const byPriority: Record<string, number> = { HIGH: 0, NORMAL: 0, LOW: 0 };
    for (const task of histories) if (task.tenant === tenant) byPriority[task.priority] = (byPriority[task.priority] ?? 0) + 1;
    return { tenant, byPriority };
  });
  return {
    stats: { tenants, policies: input.policyCounts, leaseSamples: input.samples.length, caps: caps.stats, starvation: starvationStats },
    problems: { caps: caps.problems, starvation },
  };
}
