/**
 * Pure arithmetic over spend: the range the dashboard reads, the `usage` rows (one per tenant,
 * model and UTC day) added up into per-day series and a tenant × model table, the fill of a
 * budget bar, and money as text. Dollars are added up as integer nano-dollars, the unit the
 * server counts in, so a column of costs adds up to the cent it shows.
 */
import type { BudgetFieldsFragment, SpendQuery, TaskState } from './gql/graphql.ts';
import { createStateWatch } from './state-watch.ts';

export type UsageRow = SpendQuery['usage'][number];
export type Budget = BudgetFieldsFragment;

/** The ranges the spend card offers, in UTC days ending today. */
export const SPEND_RANGE_DAYS = [7, 30] as const;
export type SpendRangeDays = (typeof SPEND_RANGE_DAYS)[number];

const DAY_MS = 86_400_000;
const NANO_PER_USD = 1_000_000_000;
const toNano = (usd: number) => Math.round(usd * NANO_PER_USD);
const fromNano = (nano: number) => nano / NANO_PER_USD;

export interface SpendRange {
  /** The first UTC midnight of the range (ISO). */
  from: string;
  /** The UTC midnight that ends today (ISO): the range holds today's hours as they come. */
  to: string;
  /** Each UTC day of the range, oldest first, as `usage` names them (YYYY-MM-DD). */
  days: string[];
}

/** The last `days` UTC days, today included, at `nowMs`. */
export function spendRange(days: number, nowMs: number): SpendRange {
  const tomorrow = Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS;
  const from = tomorrow - days * DAY_MS;
  return {
    from: new Date(from).toISOString(),
    to: new Date(tomorrow).toISOString(),
    days: Array.from({ length: days }, (_, i) => new Date(from + i * DAY_MS).toISOString().slice(0, 10)),
  };
}

export type SpendDimension = 'tenant' | 'model';

/** A name that is no tenant or model: what the rows past the largest few add up to. */
export const OTHER_SERIES = 'other';

export interface DaySeries {
  name: string;
  /** Cost per day of the range, in dollars. */
  values: number[];
  /** Cost over the range, in dollars. */
  total: number;
  /** True for the series that adds up the groups past the largest few. */
  rest?: true;
}

const labelOf = (row: UsageRow, dimension: SpendDimension) => (dimension === 'tenant' ? row.tenant : row.model) || '(unknown)';

/**
 * Cost per day by tenant or by model, the largest `maxSeries` first (over the range); the rest
 * add up into one `other` series. Groups that spent nothing in the range are left out.
 */
export function spendByDay(rows: readonly UsageRow[], dimension: SpendDimension, days: readonly string[], maxSeries = 5): DaySeries[] {
  const dayIndex = new Map(days.map((day, i) => [day, i]));
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    const i = row.day === null ? undefined : dayIndex.get(row.day);
    if (i === undefined) continue;
    const name = labelOf(row, dimension);
    let nanos = groups.get(name);
    if (!nanos) groups.set(name, (nanos = days.map(() => 0)));
    nanos[i]! += toNano(row.costUsd);
  }
  const sum = (nanos: readonly number[]) => nanos.reduce((total, n) => total + n, 0);
  const ranked = [...groups.entries()]
    .filter(([, nanos]) => sum(nanos) > 0)
    .sort(([a, x], [b, y]) => sum(y) - sum(x) || a.localeCompare(b));
  const kept = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const rest = ranked.slice(kept.length);
  const series: DaySeries[] = kept.map(([name, nanos]) => ({ name, values: nanos.map(fromNano), total: fromNano(sum(nanos)) }));
  if (rest.length > 0) {
    const nanos = days.map((_, i) => rest.reduce((total, [, group]) => total + group[i]!, 0));
    series.push({ name: OTHER_SERIES, values: nanos.map(fromNano), total: fromNano(sum(nanos)), rest: true });
  }
  return series;
}

export interface SpendLine {
  tenant: string;
  model: string;
  tasks: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Spend by tenant and model over the whole range, costliest first, with the total. */
export function spendTable(rows: readonly UsageRow[]): { lines: SpendLine[]; total: Omit<SpendLine, 'tenant' | 'model'> } {
  const lines = new Map<string, SpendLine & { nano: number }>();
  const total = { tasks: 0, calls: 0, promptTokens: 0, completionTokens: 0, nano: 0 };
  for (const row of rows) {
    const tenant = labelOf(row, 'tenant');
    const model = labelOf(row, 'model');
    const key = `${tenant}\t${model}`;
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { tenant, model, tasks: 0, calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, nano: 0 }));
    // `tasks` counts a task in the hour of its first billed call: it adds up across days and models.
    for (const target of [line, total]) {
      target.tasks += row.tasks;
      target.calls += row.calls;
      target.promptTokens += row.promptTokens;
      target.completionTokens += row.completionTokens;
      target.nano += toNano(row.costUsd);
    }
  }
  return {
    lines: [...lines.values()]
      .map(({ nano, ...line }) => ({ ...line, costUsd: fromNano(nano) }))
      .sort((a, b) => b.costUsd - a.costUsd || a.tenant.localeCompare(b.tenant) || a.model.localeCompare(b.model)),
    total: { tasks: total.tasks, calls: total.calls, promptTokens: total.promptTokens, completionTokens: total.completionTokens, costUsd: fromNano(total.nano) },
  };
}

export type BudgetState = 'ok' | 'near' | 'reached';

export interface BudgetFill {
  /** Shares of the bar's width (0..1): what was spent, and what running calls hold after it. */
  spent: number;
  reserved: number;
  /** Where the limit sits on the bar (1 unless spend went past it). */
  limitAt: number;
  /** Spent and held, as a share of the limit (Infinity for a zero limit with spend). */
  used: number;
  /**
   * `reached` once spent plus held reaches the limit (the server then refuses submits and holds
   * queued tasks: a zero limit is reached at once), `near` from 80 %.
   */
  state: BudgetState;
}

/** The share of the limit at which a bar turns to a warning. */
export const BUDGET_NEAR = 0.8;

/** How a budget's bar is filled. Spend past the limit (calls in flight) widens the bar, and the limit is marked on it. */
export function budgetFill(budget: Pick<Budget, 'limitUsd' | 'spentUsd' | 'reservedUsd'>): BudgetFill {
  const [limit, spent, reserved] = [toNano(budget.limitUsd), toNano(budget.spentUsd), toNano(budget.reservedUsd)];
  const scale = Math.max(limit, spent + reserved);
  const used = limit > 0 ? (spent + reserved) / limit : spent + reserved > 0 ? Number.POSITIVE_INFINITY : 0;
  return {
    spent: scale > 0 ? spent / scale : 0,
    reserved: scale > 0 ? reserved / scale : 0,
    limitAt: scale > 0 ? limit / scale : 1,
    used,
    state: spent + reserved >= limit ? 'reached' : used >= BUDGET_NEAR ? 'near' : 'ok',
  };
}

/**
 * Dollars as text: `$12.34` from a dollar up, `$0.0123` below, and tiny amounts to two
 * significant digits (`$0.000012`) so a cheap call never reads as free. Zero is `$0.00`.
 */
export function formatUsd(usd: number): string {
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs === 0) return '$0.00';
  if (abs >= 1) return `${sign}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (abs >= 0.0001) return `${sign}$${abs.toFixed(4)}`;
  const decimals = Math.min(20, 1 - Math.floor(Math.log10(abs)));
  return `${sign}$${abs.toFixed(decimals).replace(/0+$/, '')}`;
}

/** A count as text with thousands separators: `12,345`. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/**
 * States in which a task's spend or holds may just have changed: ACTIVE (a call about to start
 * holds its estimate against the budgets) and every state an attempt ends in (its calls were
 * billed). PENDING changes nothing.
 */
const MOVES_SPEND = {
  PENDING: false,
  ACTIVE: true,
  SCHEDULED: true,
  COMPLETED: true,
  DLQ: true,
  CANCELLED: true,
} as const satisfies Record<TaskState, boolean>;

/**
 * Watches task changes for the moments spend may have moved: a task entering a state of
 * MOVES_SPEND that it was not in (progress updates keep the state, and say nothing). Returns a
 * function that takes a batch of `{ id, state }` and answers whether to read spend again. It
 * remembers the state of at most `maxTracked` unfinished tasks (final ones are forgotten).
 */
export function createSpendWatch(maxTracked = 10_000) {
  return createStateWatch((state) => MOVES_SPEND[state] ?? true, maxTracked);
}
