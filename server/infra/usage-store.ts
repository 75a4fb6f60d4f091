/**
 * Reads the usage counters and budgets the task scripts keep (schema/src/scripts/usage.ts and
 * budgets.ts, which also name their fields), and writes budget limits. Sums come from hourly counters, never
 * from the ledger of calls.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { budgetField, parseBudgetField, periodOf, type BudgetPeriod } from '../../schema/src/scripts/budgets.ts';
import { parseUsageHourField } from '../../schema/src/scripts/usage.ts';

const HOUR_MS = 3_600_000;

/** One hour's counters of one (tenant, API key, model). */
export interface UsageCounter {
  hourMs: number;
  tenant: string;
  apiKeyId: string;
  model: string;
  tasks: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costNano: number;
  /** Calls recorded at an estimate, and their part of costNano. */
  estimatedCalls: number;
  estimatedCostNano: number;
}

export interface BudgetState {
  tenant: string;
  period: BudgetPeriod;
  limitNano: number;
  spentNano: number;
  reservedNano: number;
  resetsAt: number;
}

export type UsageStore = ReturnType<typeof createUsageStore>;

export function createUsageStore(redis: Redis, keys: RedisKeys) {
  /** The counters of every hour that starts in [from rounded down to its hour, to). */
  async function counters(fromMs: number, toMs: number): Promise<UsageCounter[]> {
    const hours: number[] = [];
    for (let hour = fromMs - (fromMs % HOUR_MS); hour < toMs; hour += HOUR_MS) hours.push(hour);
    if (hours.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const hour of hours) pipeline.hgetall(keys.usageHour(hour));
    const results = (await pipeline.exec()) ?? [];
    const rows = new Map<string, UsageCounter>();
    results.forEach(([error, fields], index) => {
      if (error) throw error;
      for (const [field, value] of Object.entries(fields as Record<string, string>)) {
        const counter = parseUsageHourField(field);
        if (!counter) continue;
        const { tenant, apiKeyId, model, metric } = counter;
        const id = `${hours[index]}\t${tenant}\t${apiKeyId}\t${model}`;
        let row = rows.get(id);
        if (!row) {
          row = { hourMs: hours[index]!, tenant, apiKeyId, model, tasks: 0, calls: 0, promptTokens: 0, completionTokens: 0, costNano: 0, estimatedCalls: 0, estimatedCostNano: 0 };
          rows.set(id, row);
        }
        row[metric] += Number(value);
      }
    });
    return [...rows.values()];
  }

  /** Nano-dollars held now for running calls of `tenant` (expired holds left out). */
  async function reservedNano(tenant: string, now: number): Promise<number> {
    const live = await redis.zrangebyscore(keys.budgetReservations(tenant), `(${now}`, '+inf');
    if (live.length === 0) return 0;
    const amounts = await redis.hmget(keys.budgetReservationAmounts(tenant), ...live);
    return amounts.reduce((sum, amount) => sum + Number(amount ?? 0), 0);
  }

  /** Every budget (or `tenant`'s), with what was spent and is held in its current period. */
  async function budgets(tenant: string | null, now = Date.now()): Promise<BudgetState[]> {
    const limits = await redis.hgetall(keys.budgets());
    const states: BudgetState[] = [];
    for (const [field, limit] of Object.entries(limits)) {
      const budget = parseBudgetField(field);
      if (!budget || (tenant !== null && budget.tenant !== tenant)) continue;
      const { tenant: owner, period } = budget;
      const { start, end } = periodOf(period, now);
      const [spent, reserved] = await Promise.all([redis.get(keys.budgetSpent(owner, period, start)), reservedNano(owner, now)]);
      states.push({ tenant: owner, period, limitNano: Number(limit), spentNano: Number(spent ?? 0), reservedNano: reserved, resetsAt: end });
    }
    return states.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.period.localeCompare(b.period));
  }

  /** Sets (or, with null, removes) a tenant's limit for a period. */
  async function setLimit(tenant: string, period: BudgetPeriod, limitNano: number | null): Promise<void> {
    if (limitNano === null) await redis.hdel(keys.budgets(), budgetField(tenant, period));
    else await redis.hset(keys.budgets(), budgetField(tenant, period), String(limitNano));
  }

  return { counters, budgets, setLimit };
}
