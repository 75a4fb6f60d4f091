/**
 * The dispatcher's part of a chaos run: an admin's policy changes (chaos/policies.ts) and the
 * lease samples (chaos/lease-sampler.ts) while the faults run, then the audit of caps and
 * starvation (chaos/dispatch-audit.ts) once the tasks settled.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { CLUSTER_TIMINGS } from './cluster.ts';
import { auditDispatch } from './dispatch-audit.ts';
import { startLeaseSampler } from './lease-sampler.ts';
import { MAX_WEIGHT, startPolicyEvents } from './policies.ts';
import { seeded } from './random.ts';
import { CHAOS_ADMIN } from './tenants.ts';

export interface DispatchChaosOptions {
  redis: Redis;
  keys: RedisKeys;
  servers: readonly string[];
  tenants: readonly string[];
  /** Mean pause between two policy changes, how long a pause lasts, how often leases are sampled. */
  policyEveryMs: number;
  pauseMs: readonly [number, number];
  leaseSampleMs: number;
  /** The cluster's PRIORITY_OFFSET_MS (a task's place in its line). */
  priorityOffsetMs: number;
  seed: number;
  log(line: string): void;
}

export type DispatchChaos = ReturnType<typeof startDispatchChaos>;

/** Starts the policy changes and the lease samples at once. */
export function startDispatchChaos(options: DispatchChaosOptions) {
  const sampler = startLeaseSampler(options.redis, options.keys, options.tenants, options.leaseSampleMs);
  const policies = startPolicyEvents({
    servers: options.servers,
    adminKey: CHAOS_ADMIN.key,
    tenants: options.tenants,
    everyMs: options.policyEveryMs,
    pauseMs: options.pauseMs,
    // A stream of its own: the changes' timing does not shift the faults' and the load's draws.
    random: seeded(options.seed + 7919),
    log: options.log,
  });
  return {
    /** No more changes: every tenant resumed and its cap lifted, so every task can finish. */
    liftPolicies: () => policies.stop(),
    /** Stops sampling and audits caps and starvation for the accepted `ids`. */
    async audit(ids: readonly string[]) {
      await sampler.stop();
      return auditDispatch({
        redis: options.redis,
        keys: options.keys,
        ids,
        tenants: options.tenants,
        samples: sampler.samples,
        changes: policies.changes,
        policyCounts: policies.counts(),
        priorityOffsetMs: options.priorityOffsetMs,
        bound: { ...CLUSTER_TIMINGS, maxWeight: MAX_WEIGHT },
      });
    },
    /** Stops both without a word more to the servers (a run that failed). */
    async close() {
      policies.close();
      await sampler.stop();
    },
  };
}
