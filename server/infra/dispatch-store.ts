/**
 * The API side of the fair dispatcher (docs/dispatch.md): tenant policies (set through the
 * `tenantPolicySet` script, read from the dispatcher's state hash), the running and waiting
 * counts of each tenant, and where waiting tasks stand (`dispatchPositions`, one script call for
 * a batch). The worker side (dispatch, release, sweep) is in worker/task-store.ts.
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner } from '../../common/task-script-runner.ts';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { DEFAULT_WEIGHT, parseTenantField, TenantField } from '../../schema/src/dispatch.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { lineKeys } from '../../schema/src/scripts/dispatch-lines.ts';
import type { TaskStanding } from '../../schema/src/scripts/dispatch-positions.ts';
import { slotKeys } from '../../schema/src/scripts/dispatch.ts';
import type { TaskJobData } from '../../schema/src/task.ts';
import { parseDispatchStats, type DispatchStats } from '../../schema/src/task-stats.ts';

/** A tenant's policy and what it has running and waiting now. */
export interface TenantPolicyView {
  tenant: string;
  weight: number;
  maxConcurrency: number | null;
  paused: boolean;
  active: number;
  waiting: number;
}

/** A change to a policy; undefined leaves a setting as it is, a null cap removes the cap. */
export interface TenantPolicyChange {
  weight?: number;
  maxConcurrency?: number | null;
  paused?: boolean;
}

export interface DispatchStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  /** RETRY_RATIO: the positions replay a tenant's two lines by it. */
  retryRatio: number;
  /** The most tasks one positions read replays (a task further back has no position). */
  positionMaxSteps: number;
}

export type DispatchStore = ReturnType<typeof createDispatchStore>;

export function createDispatchStore(options: DispatchStoreOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const common = { maxEvents: 0, actor: '' };
  // A ticket given back for a resumed tenant: a job with no task, like the worker's.
  const wakeJob = encodeBeeQueueJob<TaskJobData>({ taskId: '' });

  /** Running (live lease for a capped tenant, ACTIVE otherwise) and waiting counts of `tenants`. */
  async function counts(tenants: readonly string[], capped: ReadonlySet<string>): Promise<Map<string, { active: number; waiting: number }>> {
    const pipeline = redis.pipeline();
    const now = Date.now();
    for (const tenant of tenants) {
      if (capped.has(tenant)) pipeline.zcount(keys.dispatchRunning(tenant), `(${now}`, '+inf');
      else pipeline.zcard(keys.tenantSlice(keys.tasksInState('ACTIVE'), tenant));
      pipeline.zcard(keys.dispatchLine('new', tenant));
      pipeline.zcard(keys.dispatchLine('retry', tenant));
    }
    const results = (await pipeline.exec()) ?? [];
    const value = (i: number) => {
      const [error, count] = results[i] ?? [new Error('missing reply'), 0];
      if (error) throw error;
      return Number(count);
    };
    return new Map(tenants.map((tenant, i) => [tenant, { active: value(3 * i), waiting: value(3 * i + 1) + value(3 * i + 2) }]));
  }

  /** The policies of `only` (every tenant with a policy or work when omitted). */
  async function policies(only?: string): Promise<TenantPolicyView[]> {
    const fields = only === undefined ? await redis.hgetall(keys.dispatchState()) : await tenantFields(only);
    const byTenant = new Map<string, Partial<Record<TenantField, string>>>();
    if (only !== undefined) byTenant.set(only, {});
    for (const [field, value] of Object.entries(fields)) {
      const parsed = parseTenantField(field);
      if (!parsed) continue;
      const entry = byTenant.get(parsed.tenant) ?? {};
      entry[parsed.field] = value;
      byTenant.set(parsed.tenant, entry);
    }
    const tenants = [...byTenant.keys()].sort();
    const capped = new Set(tenants.filter((tenant) => byTenant.get(tenant)![TenantField.CAP]));
    const live = await counts(tenants, capped);
    return tenants.map((tenant) => {
      const entry = byTenant.get(tenant)!;
      return {
        tenant,
        weight: Number(entry[TenantField.WEIGHT] ?? DEFAULT_WEIGHT),
        maxConcurrency: entry[TenantField.CAP] ? Number(entry[TenantField.CAP]) : null,
        paused: entry[TenantField.PAUSED] === '1',
        ...live.get(tenant)!,
      };
    });
  }

  async function tenantFields(tenant: string): Promise<Record<string, string>> {
    const names = [TenantField.WEIGHT, TenantField.CAP, TenantField.PAUSED].map((field) => `${tenant}\t${field}`);
    const values = await redis.hmget(keys.dispatchState(), ...names);
    return Object.fromEntries(names.flatMap((name, i) => (values[i] === null ? [] : [[name, values[i]!]])));
  }

  /** Changes a tenant's policy at once, in every worker (the dispatcher reads it per pick). */
  async function setPolicy(tenant: string, change: TenantPolicyChange): Promise<TenantPolicyView> {
    await runScript('tenantPolicySet', { taskId: '', tenant }, common, { ...slotKeys(keys), activeSlice: keys.tenantSlice(keys.tasksInState('ACTIVE'), tenant) }, {
      weight: change.weight ?? '',
      cap: change.maxConcurrency === undefined ? '' : change.maxConcurrency === null ? 'none' : change.maxConcurrency,
      paused: change.paused === undefined ? '' : change.paused ? '1' : '0',
      wakeJob,
    });
    return (await policies(tenant))[0]!;
  }

  /** Where each task stands, in the order asked (one atomic read). */
  async function positions(taskIds: readonly string[]): Promise<TaskStanding[]> {
    if (taskIds.length === 0) return [];
    return runScript('dispatchPositions', { taskId: '', tenant: '' }, common, { ...lineKeys(keys), capWake: keys.dispatchCapWake() }, {
      taskIds: JSON.stringify(taskIds),
      retryRatio: options.retryRatio,
      maxSteps: options.positionMaxSteps,
    });
  }

  /** The dispatcher's cluster-wide counters (starts and tokens by tenant, waiting tasks, the wait). */
  async function stats(): Promise<DispatchStats> {
    return parseDispatchStats(await redis.hgetall(keys.taskStats()));
  }

  return { policies, setPolicy, positions, stats };
}
