/**
 * Budgets: the tenants' spending limits as the scripts keep them and server and worker read
 * them, in one place. Scripts: `budgetReserve`, `budgetRelease`; the Lua fragment `BUDGET`
 * (`budget_reached`, `add_spend`, `end_hold`), which the create script (api.ts) and
 * `taskRecordUsage` (usage.ts) use too. Periods are UTC days and months; which period a check
 * falls in follows the caller's clock. No I/O here.
 *
 * Keys (all built by the caller, `budgetKeys`): `RedisKeys.budgets` (field `<tenant>\t<period>`
 * -> limit in nano-dollars), the tenant's spend in the current day and month (kept for every
 * tenant, so a budget set mid-period knows what was spent already), and its live holds (a
 * sorted set id -> expiry, a hash id -> nano-dollars).
 */
import type { RedisKeys } from '../redis-keys.ts';
import { defineTaskScript, replyList, type LuaFragment } from './kit/define.ts';

export const BudgetPeriod = { DAY: 'DAY', MONTH: 'MONTH' } as const;
export type BudgetPeriod = (typeof BudgetPeriod)[keyof typeof BudgetPeriod];
export const BUDGET_PERIODS = Object.values(BudgetPeriod);

const DAY_MS = 86_400_000;

/** The period of `period` kind that holds `at`: its start and the start of the next one (ms). */
export function periodOf(period: BudgetPeriod, at: number): { start: number; end: number } {
  const date = new Date(at);
  if (period === BudgetPeriod.DAY) {
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return { start, end: start + DAY_MS };
  }
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/** The keys a script that checks a tenant's budgets takes (`BUDGET`), all built by the caller. */
export const BUDGET_KEYS = ['budgets', 'spentDay', 'spentMonth', 'reservations', 'reservationAmounts'] as const;

/** The budget keys of `tenant` for the periods holding `at`. */
export function budgetKeys(keys: RedisKeys, tenant: string, at: number): Record<(typeof BUDGET_KEYS)[number], string> {
  return {
    budgets: keys.budgets(),
    spentDay: keys.budgetSpent(tenant, BudgetPeriod.DAY, periodOf(BudgetPeriod.DAY, at).start),
    spentMonth: keys.budgetSpent(tenant, BudgetPeriod.MONTH, periodOf(BudgetPeriod.MONTH, at).start),
    reservations: keys.budgetReservations(tenant),
    reservationAmounts: keys.budgetReservationAmounts(tenant),
  };
}

/** The field of `RedisKeys.budgets` holding a tenant's limit for a period (`budget_limits` reads the same). */
export const budgetField = (tenant: string, period: BudgetPeriod) => `${tenant}\t${period}`;

/** The tenant and period a field of `RedisKeys.budgets` is for, or null when it is not a budget's. */
export function parseBudgetField(field: string): { tenant: string; period: BudgetPeriod } | null {
  const [tenant, period] = field.split('\t') as [string, BudgetPeriod | undefined];
  return period !== undefined && BUDGET_PERIODS.includes(period) ? { tenant, period } : null;
}

/**
 * The budget helpers, for scripts that bind the budget keys. `budget_reached()`: which of the
 * tenant's budgets its spend plus what running calls hold has reached, or nil (expired holds, a
 * worker that died mid-call, are dropped first). `add_spend(cost)`: counts spend in the day and
 * the month (each kept a little longer than its period). `end_hold(id)`: ends a hold.
 */
export const BUDGET: LuaFragment = {
  lua: `
local function budget_limits()
  return redis.call('HMGET', BUDGETS_KEY, TENANT .. '\\t${BudgetPeriod.DAY}', TENANT .. '\\t${BudgetPeriod.MONTH}')
end
local function budget_reached()
  local limits = budget_limits()
  if not limits[1] and not limits[2] then return nil end
  local now = now_ms()
  local expired = redis.call('ZRANGEBYSCORE', RESERVATIONS_KEY, '-inf', now)
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', RESERVATIONS_KEY, '-inf', now)
    redis.call('HDEL', RESERVATION_AMOUNTS_KEY, unpack(expired))
  end
  local reserved = 0
  for _, amount in ipairs(redis.call('HVALS', RESERVATION_AMOUNTS_KEY)) do reserved = reserved + tonumber(amount) end
  if limits[1] and tonumber(redis.call('GET', SPENT_DAY_KEY) or '0') + reserved >= tonumber(limits[1]) then return '${BudgetPeriod.DAY}' end
  if limits[2] and tonumber(redis.call('GET', SPENT_MONTH_KEY) or '0') + reserved >= tonumber(limits[2]) then return '${BudgetPeriod.MONTH}' end
  return nil
end
local function add_spend(cost)
  -- A free call (a noop provider, a free model) spends nothing: no write.
  if cost == 0 then return end
  if redis.call('INCRBY', SPENT_DAY_KEY, cost) == cost then redis.call('PEXPIRE', SPENT_DAY_KEY, ${2 * DAY_MS}) end
  if redis.call('INCRBY', SPENT_MONTH_KEY, cost) == cost then redis.call('PEXPIRE', SPENT_MONTH_KEY, ${63 * DAY_MS}) end
end
local function end_hold(id)
  redis.call('ZREM', RESERVATIONS_KEY, id)
  redis.call('HDEL', RESERVATION_AMOUNTS_KEY, id)
end
`,
};

/** A budget reservation: held, not needed (no budget), or refused (a budget was reached). */
export type ReserveOutcome = { status: 'held' | 'free' } | { status: 'over'; period: BudgetPeriod };

/**
 * budgetReserve: before a provider call, holds its estimated cost against the tenant's budgets,
 * or refuses when the spend plus what running calls hold has reached one. A tenant without
 * budgets holds nothing. The hold expires after `ttlMs` (a worker that dies mid-call), and
 * recordUsage (or budgetRelease, for a call that did not happen) ends it.
 */
export const budgetReserve = defineTaskScript({
  shared: 'none',
  keys: [...BUDGET_KEYS],
  args: ['reservationId', 'amountNano', 'ttlMs'],
  uses: [BUDGET],
  body: `
local over = budget_reached()
if over then return {'over', over} end
local limits = budget_limits()
if not limits[1] and not limits[2] then return {'free'} end
redis.call('ZADD', RESERVATIONS_KEY, now_ms() + tonumber(TTL_MS), RESERVATION_ID)
redis.call('HSET', RESERVATION_AMOUNTS_KEY, RESERVATION_ID, AMOUNT_NANO)
return {'held'}
`,
  decode(reply): ReserveOutcome {
    const [status, period] = replyList(reply);
    return status === 'over' ? { status: 'over', period: period as BudgetPeriod } : { status: status === 'held' ? 'held' : 'free' };
  },
});

/** budgetRelease: ends a reservation whose call did not happen. */
export const budgetRelease = defineTaskScript({
  shared: 'none',
  keys: ['reservations', 'reservationAmounts'],
  args: ['reservationId'],
  uses: [BUDGET],
  body: `
end_hold(RESERVATION_ID)
return 1
`,
  decode: (reply) => reply === 1,
});
