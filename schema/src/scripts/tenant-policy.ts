/**
 * The dispatcher's operator and upkeep scripts: `tenantPolicySet` (an admin sets a tenant's
 * weight, cap or pause) and `dispatchSweep` (every worker's sweeper: held tenants whose leases
 * ran out, and tickets for work that has none). The reads of where tasks stand are in
 * dispatch-positions.ts.
 */
import { DispatchField, READY_ORDER_DIGITS, TenantField } from '../dispatch.ts';
import { LINE_KEYS, LINE_TEMPLATES, LINES, RUNNING_TEMPLATE } from './dispatch-lines.ts';
import { SLOT_KEYS, SLOTS } from './dispatch-slots.ts';
import { defineTaskScript, replyList } from './kit/define.ts';
import { TASK_TEMPLATES } from './kit/templates.ts';

const STATE = 'DISPATCH_STATE_KEY';
const field = (name: string) => `tenant_field(TENANT, '${name}')`;

/** A tenant's policy as the script left it. */
export interface TenantPolicyState {
  weight: number | null;
  maxConcurrency: number | null;
  paused: boolean;
}

/**
 * tenantPolicySet: changes a tenant's policy; '' leaves a setting as it is. `weight`: 1 to 1000.
 * `cap`: a number of attempts, or 'none' to remove it; a cap set where there was none counts the
 * tenant's running attempts at once (each marked `capped`, so its worker keeps its slot in step).
 * `paused`: '1' takes the tenant out of the ready set now (running attempts finish, waiting
 * tasks keep their places), '0' lists it again at the current virtual time. A tenant with room
 * again (resumed, a larger cap) gets its parked tickets back. Replies the policy in force.
 */
export const tenantPolicySet = defineTaskScript({
  shared: 'none',
  keys: [...LINE_KEYS, ...SLOT_KEYS, 'activeSlice'],
  args: ['weight', 'cap', 'paused', 'wakeJob'],
  templates: [...TASK_TEMPLATES, ...LINE_TEMPLATES, RUNNING_TEMPLATE],
  uses: [LINES, SLOTS],
  body: `
local now = now_ms()
local f = redis.call('HMGET', ${STATE}, ${field(TenantField.WEIGHT)}, ${field(TenantField.CAP)}, ${field(TenantField.PAUSED)},
  ${field(TenantField.BLOCKED)}, ${field(TenantField.LISTED)})
local paused = f[3] == '1'
local old_cap = tonumber(f[2] or '0')
local cap = old_cap
if WEIGHT ~= '' then redis.call('HSET', ${STATE}, ${field(TenantField.WEIGHT)}, WEIGHT) end
if CAP ~= '' then
  cap = CAP == 'none' and 0 or tonumber(CAP)
  if cap > 0 then redis.call('HSET', ${STATE}, ${field(TenantField.CAP)}, cap)
  else redis.call('HDEL', ${STATE}, ${field(TenantField.CAP)}) end
  if cap > 0 and old_cap == 0 then
    -- Attempts that started uncapped hold slots too: counted by their leases from now on.
    for _, id in ipairs(redis.call('ZRANGE', ACTIVE_SLICE_KEY, 0, -1)) do
      local task_key = key_of(TASK_TEMPLATE, id)
      local t = redis.call('HMGET', task_key, 'state', 'attempt', 'leaseExpiresAt')
      if t[1] == 'ACTIVE' and t[3] then
        redis.call('ZADD', running_of(TENANT), t[3], id .. ':' .. t[2])
        redis.call('HSET', task_key, 'capped', '1')
      end
    end
  end
end
if PAUSED == '1' and not paused then
  paused = true
  redis.call('HSET', ${STATE}, ${field(TenantField.PAUSED)}, '1')
  if f[5] == '1' then
    -- Out of the ready set at once: its member there starts with its head's order.
    local members = redis.call('ZRANGE', READY_KEY, 0, -1, 'WITHSCORES')
    for i = 1, #members, 2 do
      if string.sub(members[i], ${READY_ORDER_DIGITS} + 2) == TENANT then
        redis.call('ZREM', READY_KEY, members[i])
        if head_of(TENANT) then hold_tenant(TENANT, 'paused', tonumber(members[i + 1]), nil)
        else redis.call('HSET', ${STATE}, ${field(TenantField.LISTED)}, '', ${field(TenantField.TAG)}, members[i + 1]) end
        break
      end
    end
  elseif f[4] == 'cap' then
    redis.call('HSET', ${STATE}, ${field(TenantField.BLOCKED)}, 'paused')
    redis.call('ZREM', CAP_WAKE_KEY, TENANT)
  end
elseif PAUSED == '0' and paused then
  paused = false
  redis.call('HDEL', ${STATE}, ${field(TenantField.PAUSED)})
end
-- Room again: listed, and its parked tickets back (as many as it has tasks waiting, or slots).
-- Resumed but still at its cap: held for its cap instead, until a slot frees.
local blocked = redis.call('HGET', ${STATE}, ${field(TenantField.BLOCKED)})
if (blocked == 'paused' and not paused) or (blocked == 'cap' and cap ~= old_cap) then
  local live, earliest = 0, nil
  if cap > 0 then live, earliest = live_slots(TENANT, now) end
  if cap == 0 or live < cap then
    local waiting = redis.call('ZCARD', line_of('new', TENANT)) + redis.call('ZCARD', line_of('retry', TENANT))
    if free_tenant(TENANT) then give_back(cap > 0 and math.min(waiting, cap - live) or waiting, TENANT .. ':' .. now) end
  elseif blocked == 'paused' then
    redis.call('HSET', ${STATE}, ${field(TenantField.BLOCKED)}, 'cap')
    redis.call('ZADD', CAP_WAKE_KEY, earliest or now, TENANT)
  end
end
local w = redis.call('HMGET', ${STATE}, ${field(TenantField.WEIGHT)}, ${field(TenantField.CAP)})
return {w[1] or '', w[2] or '', paused and '1' or '0'}
`,
  decode(reply): TenantPolicyState {
    const [weight, cap, paused] = replyList(reply);
    return { weight: weight ? Number(weight) : null, maxConcurrency: cap ? Number(cap) : null, paused: paused === '1' };
  },
});

/**
 * dispatchSweep: what no event will do by itself. Held tenants whose earliest lease has run out
 * are listed again when a slot is free. Waiting work short of tickets (one lost with a job that
 * failed while Redis went away) gets them: a ticket is a job waiting on either queue, one pulled
 * by a worker and not yet running a task (the active lists hold one job per running task
 * besides), or a parked one; when the tasks waiting in the lines of listed tenants and tenants
 * held at their cap outnumber them, up to `maxTickets` jobs are queued. A ticket too many finds
 * nothing and is spent. Replies the tickets queued.
 */
export const dispatchSweep = defineTaskScript({
  shared: 'none',
  keys: [...LINE_KEYS, ...SLOT_KEYS, 'retryWaiting', 'primaryActive', 'retryActive', 'activeTasks'],
  args: ['maxTickets', 'wakeJob'],
  templates: [...LINE_TEMPLATES, RUNNING_TEMPLATE],
  uses: [LINES, SLOTS],
  body: `
local now = now_ms()
local most = tonumber(MAX_TICKETS)
free_due(now)
local owed = tonumber(redis.call('HGET', ${STATE}, '${DispatchField.OWED}') or '0')
local listed = redis.call('ZRANGE', READY_KEY, 0, most - 1)
if owed > 0 and #listed > 0 then
  -- Work a slot may start, and tickets parked: they go back (one was lost on its way back).
  local n = math.min(owed, most)
  give_back(n, 'sweep:' .. now)
  return n
end
local tenants = {}
for _, member in ipairs(listed) do tenants[#tenants + 1] = string.sub(member, ${READY_ORDER_DIGITS} + 2) end
for _, tenant in ipairs(redis.call('ZRANGE', CAP_WAKE_KEY, 0, most - 1)) do tenants[#tenants + 1] = tenant end
local waiting = 0
for _, tenant in ipairs(tenants) do
  waiting = waiting + redis.call('ZCARD', line_of('new', tenant)) + redis.call('ZCARD', line_of('retry', tenant))
  if waiting >= most then break end
end
if waiting == 0 then return 0 end
local tickets = redis.call('LLEN', TICKET_WAITING_KEY) + redis.call('LLEN', RETRY_WAITING_KEY) + owed
  + redis.call('LLEN', PRIMARY_ACTIVE_KEY) + redis.call('LLEN', RETRY_ACTIVE_KEY) - redis.call('ZCARD', ACTIVE_TASKS_KEY)
local short = math.min(waiting - tickets, most)
if short <= 0 then return 0 end
push_tickets(short, 'sweep:' .. now)
return short
`,
  decode: (reply) => Number(reply),
});
