/**
 * Budget periods and the keys a budget check names: what server and worker agree on. Periods
 * are UTC days and months; which period a check falls in follows the caller's clock. No I/O.
 */
import type { RedisKeys } from './redis-keys.ts';

export const BudgetPeriod = { DAY: 'DAY', MONTH: 'MONTH' } as const;
export type BudgetPeriod = (typeof BudgetPeriod)[keyof typeof BudgetPeriod];
export const BUDGET_PERIODS = Object.values(BudgetPeriod);

/** The period of `period` kind that holds `at`: its start and the start of the next one (ms). */
export function periodOf(period: BudgetPeriod, at: number): { start: number; end: number } {
  const date = new Date(at);
  if (period === BudgetPeriod.DAY) {
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/** The budget keys of `tenant` for the periods holding `at` (the `budget_reached` check's keys). */
export function budgetKeys(keys: RedisKeys, tenant: string, at: number) {
  return {
    budgets: keys.budgets(),
    spentDay: keys.budgetSpent(tenant, BudgetPeriod.DAY, periodOf(BudgetPeriod.DAY, at).start),
    spentMonth: keys.budgetSpent(tenant, BudgetPeriod.MONTH, periodOf(BudgetPeriod.MONTH, at).start),
    reservations: keys.budgetReservations(tenant),
    reservationAmounts: keys.budgetReservationAmounts(tenant),
  };
}

/** The field of `RedisKeys.budgets` holding a tenant's limit for a period. */
export const budgetField = (tenant: string, period: BudgetPeriod) => `${tenant}\t${period}`;
