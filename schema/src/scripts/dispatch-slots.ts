/**
 * The fair dispatcher's capped slots and parked tickets (docs/dispatch.md): the Lua fragment
 * `SLOTS` that taskDispatch (dispatch.ts) and the tenant policy scripts (tenant-policy.ts) share
 * (caps counted by leases, held tenants, parked tickets given back), the keys it takes, and
 * `dispatchRelease` (a capped tenant's attempt gives back its slot).
 */
import { DispatchField, TenantField } from '../dispatch.ts';
import { LINE_KEYS, LINE_TEMPLATES, lineKeys, LINES, RUNNING_TEMPLATE } from './dispatch-lines.ts';
import { QueueName, type RedisKeys } from '../redis-keys.ts';
import { defineTaskScript, type LuaFragment } from './kit/define.ts';

/** The keys a script that counts capped slots and gives back tickets takes (besides LINE_KEYS). */
export const SLOT_KEYS = ['capWake', 'ticketJobs', 'ticketWaiting'] as const;

/** LINE_KEYS' and SLOT_KEYS' keys: a ticket given back is a job on the primary queue. */
export const slotKeys = (keys: RedisKeys): Record<(typeof LINE_KEYS)[number] | (typeof SLOT_KEYS)[number], string> => ({
  ...lineKeys(keys),
  capWake: keys.dispatchCapWake(),
  ticketJobs: keys.beeQueueKey(QueueName.PRIMARY, 'jobs'),
  ticketWaiting: keys.beeQueueKey(QueueName.PRIMARY, 'waiting'),
});

const STATE = 'DISPATCH_STATE_KEY';

/**
 * Bound by a script that uses `SLOTS`: LINE_KEYS' and SLOT_KEYS' keys, RUNNING_TEMPLATE, the
 * argument WAKE_JOB (a parked ticket given back, in bee-queue's job format).
 * `live_slots(tenant, now)`: attempts of the tenant holding a live lease, and when the earliest
 * ends. `hold_tenant(tenant, why, tag, wake_at)`: takes a tenant out of the ready set with its
 * work ('cap' or 'paused'). `free_tenant(tenant)`: lists a held tenant again (if it has work).
 * `give_back(n, id)`: up to n parked tickets back on the primary queue; `push_tickets(n, id)`: n new ones.
 */
export const SLOTS: LuaFragment = {
  lua: `
local function running_of(tenant) return key_of(RUNNING_TEMPLATE, tenant) end
local function live_slots(tenant, now)
  local running = running_of(tenant)
  local first = redis.call('ZRANGEBYSCORE', running, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then return 0, nil end
  return redis.call('ZCOUNT', running, '(' .. now, '+inf'), tonumber(first[2])
end
local function hold_tenant(tenant, why, tag, wake_at)
  redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.LISTED}'), '', tenant_field(tenant, '${TenantField.BLOCKED}'), why,
    tenant_field(tenant, '${TenantField.TAG}'), fmt(tag))
  redis.call('HINCRBY', ${STATE}, '${DispatchField.BLOCKED}', 1)
  if wake_at then redis.call('ZADD', CAP_WAKE_KEY, wake_at, tenant) end
end
-- The order of a tenant's oldest waiting task (either line), or nil when it has none.
local function head_of(tenant)
  local best = nil
  for _, lane in ipairs({'new', 'retry'}) do
    local top = redis.call('ZRANGE', line_of(lane, tenant), 0, 0, 'WITHSCORES')
    if #top > 0 and (not best or tonumber(top[2]) < best) then best = tonumber(top[2]) end
  end
  return best
end
local function free_tenant(tenant)
  local f = redis.call('HMGET', ${STATE}, tenant_field(tenant, '${TenantField.BLOCKED}'), tenant_field(tenant, '${TenantField.TAG}'), '${DispatchField.VIRTUAL_TIME}')
  if not f[1] or f[1] == '' then return false end
  redis.call('HINCRBY', ${STATE}, '${DispatchField.BLOCKED}', -1)
  redis.call('ZREM', CAP_WAKE_KEY, tenant)
  local head = head_of(tenant)
  if head then list_tenant(tenant, f[2], head, f[3])
  else redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.BLOCKED}'), '') end
  return head ~= nil
end
local function push_tickets(n, id)
  for i = 1, n do
    local job_id = 'wake:' .. id .. ':' .. i
    if redis.call('HSETNX', TICKET_JOBS_KEY, job_id, WAKE_JOB) == 1 then redis.call('LPUSH', TICKET_WAITING_KEY, job_id) end
  end
end
local function give_back(n, id)
  local owed = tonumber(redis.call('HGET', ${STATE}, '${DispatchField.OWED}') or '0')
  n = math.min(n, owed)
  if n <= 0 then return end
  push_tickets(n, id)
  redis.call('HINCRBY', ${STATE}, '${DispatchField.OWED}', -n)
end
-- Held tenants whose earliest lease has run out by now: listed again when a slot is free.
local function free_due(now)
  for _, tenant in ipairs(redis.call('ZRANGEBYSCORE', CAP_WAKE_KEY, '-inf', now, 'LIMIT', 0, 100)) do
    local cap = tonumber(redis.call('HGET', ${STATE}, tenant_field(tenant, '${TenantField.CAP}')) or '0')
    local live, earliest = live_slots(tenant, now)
    if cap == 0 or live < cap then free_tenant(tenant)
    else redis.call('ZADD', CAP_WAKE_KEY, earliest or now, tenant) end
  end
end
`,
};

/**
 * dispatchRelease: a capped tenant's attempt ended (completed, failed, deferred, cancelled,
 * handed back): its slot is free at once instead of when its lease would have run out. A
 * tenant held at its cap is listed again, and a parked ticket is given back for it. Replies 1,
 * or 0 when the attempt held no slot any more (its lease ran out and the entry with it).
 */
export const dispatchRelease = defineTaskScript({
  shared: 'none',
  keys: [...LINE_KEYS, ...SLOT_KEYS],
  args: ['taskId', 'attempt', 'wakeJob'],
  templates: [...LINE_TEMPLATES, RUNNING_TEMPLATE],
  uses: [LINES, SLOTS],
  body: `
local member = TASK_ID .. ':' .. ATTEMPT
local running = running_of(TENANT)
local now = now_ms()
-- Entries of attempts whose lease ran out (their workers died) go too: they count for nothing.
redis.call('ZREMRANGEBYSCORE', running, '-inf', now)
if redis.call('ZREM', running, member) == 0 then return 0 end
local f = redis.call('HMGET', ${STATE}, tenant_field(TENANT, '${TenantField.BLOCKED}'), tenant_field(TENANT, '${TenantField.CAP}'))
if f[1] == 'cap' then
  local cap = tonumber(f[2] or '0')
  local live = live_slots(TENANT, now)
  if (cap == 0 or live < cap) and free_tenant(TENANT) then give_back(1, member) end
end
return 1
`,
  decode: (reply) => reply === 1,
});
