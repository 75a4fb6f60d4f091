/**
 * The invariant "no cap ever exceeded" (docs/chaos.md): at no sampled moment does a tenant
 * have more attempts holding a live lease (chaos/lease-sampler.ts, read from the task records)
 * than the cap in force, except attempts that began before a lowering of the cap.
 *
 * The rule. A sample at `at` counts `n` live attempts of a tenant. The caps that may be in
 * force then are the last answered change's and those sent but not yet answered; the bound is
 * the largest of them, and `since` is when the last answered change was answered. With
 * `n > bound`, the excess is a violation if the newest of the live attempts started (its claim,
 * from the task's history) after `since`: the last attempt to join the live set (a claim, or a
 * renewal after its lease ran out, which comes later still) did so while the others, all live
 * at the sample and so live then, were already at least `bound`, under a cap no larger than
 * `bound`. When every live attempt started before `since` they all began under an earlier,
 * larger cap and are allowed to finish: the excess is counted as excused, not as a violation.
 */
import type { LeaseSample } from './lease-sampler.ts';
import type { PolicyChange } from './policies.ts';
import { capChangesOf, capsAt } from './policy-timeline.ts';

export interface CapStats {
  tenant: string;
  /** Samples taken while the tenant had a cap, and how many of them found it at its cap or above. */
  cappedSamples: number;
  atCap: number;
  /** Samples over the cap with every live attempt started before the cap was lowered. */
  excused: number;
  /** The most live attempts one sample found while a cap was in force, and that cap. */
  maxLive: number;
  capAtMax: number | null;
}

export interface CapAuditInput {
  tenants: readonly string[];
  samples: readonly LeaseSample[];
  changes: readonly PolicyChange[];
  /** When attempt `<task id>:<attempt>` was claimed (epoch ms, Redis' clock), if its history says. */
  claimedAt(attempt: string): number | undefined;
}

const time = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : 'the start');

/** Per tenant what the samples found, and a line per sample that broke a cap. */
export function auditCaps({ tenants, samples, changes, claimedAt }: CapAuditInput): { stats: CapStats[]; problems: string[] } {
  const problems: string[] = [];
  const stats = tenants.map((tenant): CapStats => {
    const capChanges = capChangesOf(changes, tenant);
    const tenantStats: CapStats = { tenant, cappedSamples: 0, atCap: 0, excused: 0, maxLive: 0, capAtMax: null };
    for (const sample of samples) {
      const live = sample.live.get(tenant) ?? [];
      const { caps, since } = capsAt(capChanges, sample.at);
      if (caps.includes(null)) continue;
      const bound = Math.max(...(caps as number[]));
      tenantStats.cappedSamples += 1;
      if (live.length >= Math.min(...(caps as number[]))) tenantStats.atCap += 1;
      if (live.length > tenantStats.maxLive) Object.assign(tenantStats, { maxLive: live.length, capAtMax: bound });
      if (live.length <= bound) continue;
      // An attempt with no claim in its history is taken as new: it cannot excuse anything.
      const newest = Math.max(...live.map((attempt) => claimedAt(attempt) ?? Infinity));
      if (newest > since) {
        problems.push(
          `caps: ${tenant} had ${live.length} live leases at ${time(sample.at)} over its cap of ${bound} (in force since ${time(since)}); ` +
            `the newest started at ${time(newest)}: ${live.join(' ')}`,
        );
      } else tenantStats.excused += 1;
    }
    return tenantStats;
  });
  return { stats, problems };
}
