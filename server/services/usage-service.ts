/**
 * What tasks cost: a task's usage for `Task.usage`, spend over a time range grouped by tenant,
 * API key, model and day, and the tenants' budgets. A tenant's key sees its own tenant only;
 * only an admin sets budgets (the scope table says so; the mutation is audited).
 */
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import type { TaskRecord } from '../../schema/src/task.ts';
import { parseUsageLog } from '../../schema/src/model-chain.ts';
import { fromNanoUsd, toNanoUsd } from '../../schema/src/usage.ts';
import { BUDGET_PERIODS, type BudgetPeriod } from '../../schema/src/scripts/budgets.ts';
import type { UsageStore, BudgetState } from '../infra/usage-store.ts';
import { isAdmin, type Caller } from '../auth/scopes.ts';
import type { TaskReads } from './task-reads.ts';

export const UsageGroup = { TENANT: 'TENANT', API_KEY: 'API_KEY', MODEL: 'MODEL', DAY: 'DAY' } as const;
export type UsageGroup = (typeof UsageGroup)[keyof typeof UsageGroup];

export interface UsageRowView {
  tenant: string | null;
  apiKeyId: string | null;
  model: string | null;
  day: string | null;
  tasks: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Calls recorded at an estimate (the provider never reported them), and their part of costUsd. */
  estimatedCalls: number;
  estimatedCostUsd: number;
}

export interface BudgetView {
  tenant: string;
  period: BudgetPeriod;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  resetsAt: number;
}

/** The longest range `usage` reads: a year and a day of hourly counters. */
const MAX_RANGE_MS = 367 * 86_400_000;

const budgetView = (state: BudgetState): BudgetView => ({
  tenant: state.tenant,
  period: state.period,
  limitUsd: fromNanoUsd(state.limitNano),
  spentUsd: fromNanoUsd(state.spentNano),
  reservedUsd: fromNanoUsd(state.reservedNano),
  resetsAt: state.resetsAt,
});

export type UsageService = ReturnType<typeof createUsageService>;

export function createUsageService(options: { store: UsageStore; reads: Pick<TaskReads, 'store'> }) {
  const { store, reads } = options;

  /** `TaskUsage.perCall`: the task's calls as its usage log lists them (none for a task from before the log). */
  function perCall(task: TaskRecord) {
    return parseUsageLog(task.usageLog).map(({ costNano, at, ...call }) => ({ ...call, costUsd: fromNanoUsd(costNano), at }));
  }

  /** `Task.usage`: every call added up; a task from before calls were recorded shows its last call's tokens. */
  function taskUsage(task: TaskRecord) {
    if (task.usageCalls !== null && task.usageCalls > 0) {
      const prompt = task.usagePromptTokens ?? 0;
      const completion = task.usageCompletionTokens ?? 0;
      return {
        model: task.usageModel ?? task.usage?.model ?? '',
        promptTokens: prompt,
        completionTokens: completion,
        totalTokens: prompt + completion,
        cachedTokens: task.usageCachedTokens ?? 0,
        reasoningTokens: task.usageReasoningTokens ?? 0,
        costUsd: fromNanoUsd(task.usageCostNano ?? 0),
        calls: task.usageCalls,
        estimated: task.usageEstimated,
        perCall: perCall(task),
      };
    }
    if (!task.usage) return null;
    return { ...task.usage, cachedTokens: null, reasoningTokens: null, costUsd: null, calls: 1, estimated: false, perCall: [] };
  }

  async function usage(from: Date, to: Date, groupBy: readonly UsageGroup[], caller: Caller): Promise<UsageRowView[]> {
    const [fromMs, toMs] = [from.getTime(), to.getTime()];
    if (!(toMs > fromMs)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'to must be after from');
    if (toMs - fromMs > MAX_RANGE_MS) throw new AppError(ErrorCode.BAD_USER_INPUT, 'the range may span at most 367 days');
    const by = new Set(groupBy);
    const tenant = isAdmin(caller) ? null : caller.tenant;
    const counters = (await reads.store(() => store.counters(fromMs, toMs))).filter((counter) => tenant === null || counter.tenant === tenant);
    const rows = new Map<string, UsageRowView & { costNano: number; estimatedCostNano: number }>();
    for (const counter of counters) {
      const key = {
        tenant: by.has(UsageGroup.TENANT) ? counter.tenant : null,
        apiKeyId: by.has(UsageGroup.API_KEY) ? counter.apiKeyId || null : null,
        model: by.has(UsageGroup.MODEL) ? counter.model : null,
        day: by.has(UsageGroup.DAY) ? new Date(counter.hourMs).toISOString().slice(0, 10) : null,
      };
      const id = JSON.stringify(key);
      let row = rows.get(id);
      if (!row) rows.set(id, (row = { ...key, tasks: 0, calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, costNano: 0, estimatedCalls: 0, estimatedCostUsd: 0, estimatedCostNano: 0 }));
      row.tasks += counter.tasks;
      row.calls += counter.calls;
      row.promptTokens += counter.promptTokens;
      row.completionTokens += counter.completionTokens;
      row.costNano += counter.costNano;
      row.estimatedCalls += counter.estimatedCalls;
      row.estimatedCostNano += counter.estimatedCostNano;
    }
    // Summed in nano-dollars, turned into dollars once: no float drift across rows.
    return [...rows.values()]
      .map(({ costNano, estimatedCostNano, ...row }) => ({ ...row, costUsd: fromNanoUsd(costNano), estimatedCostUsd: fromNanoUsd(estimatedCostNano) }))
      .sort((a, b) => JSON.stringify([a.day, a.tenant, a.apiKeyId, a.model]).localeCompare(JSON.stringify([b.day, b.tenant, b.apiKeyId, b.model])));
  }

  async function budgets(caller: Caller): Promise<BudgetView[]> {
    return (await reads.store(() => store.budgets(isAdmin(caller) ? null : caller.tenant))).map(budgetView);
  }

  /** Sets a tenant's limit for a period, or removes it (null). Answers the budget, or null once removed. */
  async function setBudget(tenant: string, period: BudgetPeriod, limitUsd: number | null): Promise<BudgetView | null> {
    if (!/^[\w.:@-]{1,128}$/.test(tenant)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'tenant must be 1-128 letters, digits or . _ : @ -');
    if (!BUDGET_PERIODS.includes(period)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'unknown period');
    if (limitUsd !== null && !(Number.isFinite(limitUsd) && limitUsd >= 0 && limitUsd <= 1e9)) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'limitUsd must be between 0 and 1e9, or null to remove the budget');
    }
    await reads.store(() => store.setLimit(tenant, period, limitUsd === null ? null : toNanoUsd(limitUsd)));
    if (limitUsd === null) return null;
    const state = (await reads.store(() => store.budgets(tenant))).find((budget) => budget.period === period);
    return state ? budgetView(state) : null;
  }

  return { taskUsage, usage, budgets, setBudget };
}
