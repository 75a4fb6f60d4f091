/**
 * The fair dispatcher seen from the API (docs/dispatch.md): tenant policies (an admin sets any,
 * a tenant's key reads its own), what each tenant started recently, and where waiting tasks
 * stand and when they should start. Another tenant's policy, activity and tasks are invisible
 * without the admin scope; setting a policy is admin only (authorize.ts) and audited.
 */
import type { Logger } from '../../common/logger.ts';
import { MAX_WEIGHT } from '../../schema/src/dispatch.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import type { TaskRecord } from '../../schema/src/task.ts';
import type { DispatchStore, TenantPolicyChange, TenantPolicyView } from '../infra/dispatch-store.ts';
import type { TaskRepository } from '../infra/task-repository.ts';
import { canSee, isAdmin, TENANT_PATTERN, type Caller } from '../auth/scopes.ts';
import { closableIterator, createAsyncQueue } from './async-queue.ts';
import { createBacklog, type Backlog, type BacklogLimits } from './backlog.ts';
import type { StartRate } from './start-rate.ts';
import { MAX_ACTIVITY_MINUTES, type TenantActivity, type TenantActivityView } from './tenant-activity.ts';
import type { TaskReads } from './task-reads.ts';
import { isWaiting, type Standing, type TaskStandings } from './task-standings.ts';
import type { Disposable } from '../infra/task-events.ts';

/** What `taskStandingsUpdated` sends: one task's standing. */
export interface TaskStandingView {
  taskId: string;
  standing: Standing;
}

/** A policy change as GraphQL hands it: a field left out is undefined, one sent as null is null. */
export interface TenantPolicyInput {
  weight?: number | null;
  maxConcurrency?: number | null;
  paused?: boolean | null;
}

export interface DispatchServiceOptions {
  store: DispatchStore;
  standings: TaskStandings;
  startRate: StartRate;
  activity: TenantActivity;
  repository: Pick<TaskRepository, 'getMany'>;
  reads: Pick<TaskReads, 'store'>;
  /** How far a standings feed may fall behind without a connection's backlog. */
  subscriberLimits: BacklogLimits;
  logger: Logger;
}

/** The most tasks one `taskStandingsUpdated` follows. */
export const MAX_STANDING_IDS = 100;

const badInput = (message: string, reason: string) => new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { reason } });

/** Checks a policy change; the first problem is a BAD_USER_INPUT naming the rule (`details.reason`). */
export function validatePolicyChange(tenant: string, input: TenantPolicyInput): TenantPolicyChange {
  if (!TENANT_PATTERN.test(tenant)) throw badInput('tenant must be 1 to 64 letters, digits, dots, underscores or hyphens, as in an API key', 'tenant');
  const change: TenantPolicyChange = {};
  if (input.weight !== undefined) {
    if (input.weight === null || !Number.isInteger(input.weight) || input.weight < 1 || input.weight > MAX_WEIGHT) {
      throw badInput(`weight must be an integer from 1 to ${MAX_WEIGHT} (leave it out to keep it)`, 'weight');
    }
    change.weight = input.weight;
  }
  if (input.maxConcurrency !== undefined) {
    if (input.maxConcurrency !== null && (!Number.isInteger(input.maxConcurrency) || input.maxConcurrency < 1)) {
      throw badInput('maxConcurrency must be at least 1, or null for no cap', 'maxConcurrency');
    }
    change.maxConcurrency = input.maxConcurrency;
  }
  if (input.paused !== undefined) {
    if (input.paused === null) throw badInput('paused must be true or false (leave it out to keep it)', 'paused');
    change.paused = input.paused;
  }
  return change;
}

export type DispatchService = ReturnType<typeof createDispatchService>;

export function createDispatchService(options: DispatchServiceOptions) {
  const { store, standings, startRate, reads } = options;

  /** Every tenant with a policy or work for an admin; the caller's own tenant (defaults when it has no policy) otherwise. */
  function tenantPolicies(caller: Caller): Promise<TenantPolicyView[]> {
    return reads.store(() => store.policies(isAdmin(caller) ? undefined : caller.tenant));
  }

  /** Admin only (authorize.ts): changes a tenant's policy at once in every worker; bad input changes nothing. */
  async function setTenantPolicy(tenant: string, input: TenantPolicyInput): Promise<TenantPolicyView> {
    const change = validatePolicyChange(tenant, input);
    const policy = await reads.store(() => store.setPolicy(tenant, change));
    // Pausing or resuming moves every waiting task of the tenant and of those behind it.
    standings.poke();
    return policy;
  }

  /** Starts and tokens per tenant over the last `minutes` (1 to 60); a tenant's key sees its own row only. */
  async function tenantActivity(minutes: number, caller: Caller): Promise<TenantActivityView[]> {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_ACTIVITY_MINUTES) {
      throw badInput(`minutes must be an integer from 1 to ${MAX_ACTIVITY_MINUTES}`, 'minutes');
    }
    const rows = await reads.store(() => options.activity.activity(minutes));
    return isAdmin(caller) ? rows : rows.filter((row) => row.tenant === caller.tenant);
  }

  /** Where `task` stands, or null when it does not wait (no Redis call for a task that is not PENDING or SCHEDULED). */
  async function standingOf(task: TaskRecord): Promise<Standing | null> {
    const standing = await reads.store(async () => standings.standingOf(task));
    return isWaiting(standing) ? standing : null;
  }

  /** When a task at `standing` should start: after `position + 1` starts at the measured rate; null without both. */
  async function estimatedStart(standing: Standing | null): Promise<Date | null> {
    if (standing?.position === null || standing?.position === undefined) return null;
    const perMs = await startRate.rate();
    return perMs ? new Date(standing.at + (standing.position + 1) / perMs) : null;
  }

  /**
   * `taskStandingsUpdated`: the standing of each task the caller can see, then each change of
   * a waiting one, and a last one of nulls when it stops waiting.
   */
  async function watchStandings(ids: readonly string[], caller: Caller, backlog?: Backlog): Promise<AsyncGenerator<TaskStandingView>> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_STANDING_IDS) throw badInput(`ids may name at most ${MAX_STANDING_IDS} tasks`, 'ids');
    const records = (await reads.store(() => options.repository.getMany(unique))).filter((record) => canSee(caller, record.tenant));
    const first = await Promise.all(records.map((record) => reads.store(async () => standings.standingOf(record))));
    const inbox = createAsyncQueue<TaskStandingView>({ backlog: backlog ?? createBacklog(options.subscriberLimits) });
    const following: Disposable[] = [];
    records.forEach((record, i) => {
      const standing = first[i] ?? { position: null, waitReason: null, at: Date.now() };
      inbox.push({ taskId: record.id, standing });
      if (!isWaiting(standing)) return;
      const followed = standings.follow(record.id, standing, (next) => {
        inbox.push({ taskId: record.id, standing: next });
        if (!isWaiting(next)) followed.dispose();
      });
      following.push(followed);
    });
    async function* run(): AsyncGenerator<TaskStandingView> {
      yield* inbox;
    }
    return closableIterator(run(), () => {
      for (const followed of following) followed.dispose();
      inbox.close();
    });
  }

  return {
    tenantPolicies,
    setTenantPolicy,
    tenantActivity,
    standingOf,
    estimatedStart,
    watchStandings,
    /** Starts measuring the start rate and sampling tenant activity. */
    start(): void {
      startRate.start().catch((error: Error) => options.logger.warn({ err: error.message }, 'start rate: could not subscribe; estimates use the flow counters'));
      options.activity.start();
    },
    dispose(): void {
      standings.dispose();
      startRate.dispose();
      options.activity.dispose();
    },
  };
}
