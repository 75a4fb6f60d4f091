/**
 * The dispatcher's lines, as every script that puts a task in one or takes it out keeps them:
 * the Lua fragment `LINES` and the key templates it fills. The create and reopen scripts
 * (api.ts) put tasks in, cancel and delete (api.ts) and a direct claim (lifecycle.ts) take them
 * out, the dispatcher (dispatch.ts) admits due retries and takeovers and picks. The order is
 * start-time fair queueing over tenants (docs/dispatch.md):
 *
 * - `RedisKeys.dispatchReady`: the tenants with work the dispatcher may start, scored by their
 *   virtual start tag, member `<head order>|<tenant>` (the order first, so equal tags go to the
 *   older work, never to a name).
 * - `RedisKeys.dispatchLine(lane, tenant)`: a tenant's waiting tasks, member `<cost>|<id>`,
 *   scored by priority order (the order the task counts as submitted in, moved by its priority).
 * - `RedisKeys.dispatchState`: per tenant its policy, its tag while it is not listed, whether it
 *   is listed or held; and the virtual time when nobody is listed (schema/src/dispatch.ts).
 *
 * Bound by a script that uses `LINES`: READY_KEY, DISPATCH_STATE_KEY.
 */
import { DispatchField, PRIORITY_SHIFT, READY_ORDER_DIGITS, TenantField } from '../dispatch.ts';
import type { RedisKeys } from '../redis-keys.ts';
import type { LuaFragment } from './kit/define.ts';
import { TEMPLATE_VALUE, type KeyTemplate } from './kit/templates.ts';

/** The keys a script that keeps the lines takes (besides the lines themselves). */
export const LINE_KEYS = ['ready', 'dispatchState'] as const;

/** LINE_KEYS' keys. */
export const lineKeys = (keys: RedisKeys): Record<(typeof LINE_KEYS)[number], string> => ({ ready: keys.dispatchReady(), dispatchState: keys.dispatchState() });

/** A tenant's lines, for scripts that learn the tenant inside. */
export const LINE_TEMPLATES: readonly KeyTemplate[] = [
  { lua: 'NEW_LINE_TEMPLATE', build: (keys) => keys.dispatchLine('new', TEMPLATE_VALUE) },
  { lua: 'RETRY_LINE_TEMPLATE', build: (keys) => keys.dispatchLine('retry', TEMPLATE_VALUE) },
];

/** A capped tenant's running attempts (`RedisKeys.dispatchRunning`). */
export const RUNNING_TEMPLATE: KeyTemplate = { lua: 'RUNNING_TEMPLATE', build: (keys) => keys.dispatchRunning(TEMPLATE_VALUE) };

/**
 * `tenant_field(tenant, name)`, `fmt(x)`; `line_of(lane, tenant)`; `list_tenant` (lists a tenant
 * at max(V, its tag): an idle tenant gets no credit for its idle time); `enqueue_task` (puts a
 * task in a line and lists its tenant unless it is listed or held); `dequeue_task` (takes a
 * waiting task out of its line, for a cancel, a delete or a direct claim).
 */
export const LINES: LuaFragment = {
  lua: `
local function tenant_field(tenant, name) return tenant .. '\\t' .. name end
-- Tags are fractions (tokens divided by weight): all their digits.
local function fmt(x) return string.format('%.17g', x) end
local function line_of(lane, tenant)
  return key_of(lane == 'retry' and RETRY_LINE_TEMPLATE or NEW_LINE_TEMPLATE, tenant)
end
local function ready_member(head, tenant) return string.format('%0${READY_ORDER_DIGITS}d', head) .. '|' .. tenant end
-- The virtual time a tenant joins at: the smallest tag listed, or the last start's when none is.
local function virtual_time(stored)
  local top = redis.call('ZRANGE', READY_KEY, 0, 0, 'WITHSCORES')
  if #top > 0 then return tonumber(top[2]) end
  return tonumber(stored or '0') or 0
end
local function list_tenant(tenant, tag, head, stored_v)
  local s = math.max(virtual_time(stored_v), tonumber(tag or '0') or 0)
  redis.call('ZADD', READY_KEY, fmt(s), ready_member(head, tenant))
  redis.call('HSET', DISPATCH_STATE_KEY, tenant_field(tenant, '${TenantField.LISTED}'), '1', tenant_field(tenant, '${TenantField.BLOCKED}'), '')
end
local function enqueue_task(tenant, lane, cost, id, prio)
  redis.call('ZADD', line_of(lane, tenant), fmt(prio), cost .. '|' .. id)
  if lane == 'retry' then redis.call('HINCRBY', DISPATCH_STATE_KEY, tenant_field(tenant, '${TenantField.RETRIES}'), 1) end
  local f = redis.call('HMGET', DISPATCH_STATE_KEY, tenant_field(tenant, '${TenantField.LISTED}'),
    tenant_field(tenant, '${TenantField.BLOCKED}'), tenant_field(tenant, '${TenantField.TAG}'), '${DispatchField.VIRTUAL_TIME}')
  if f[1] ~= '1' and (not f[2] or f[2] == '') then list_tenant(tenant, f[3], prio, f[4]) end
end
local function dequeue_task(task)
  if not task.queued or task.queued == '' then return end
  local removed = redis.call('ZREM', line_of(task.queued, task.tenant), (task.cost or '1') .. '|' .. task.id)
  if removed == 1 and task.queued == 'retry' then
    redis.call('HINCRBY', DISPATCH_STATE_KEY, tenant_field(task.tenant, '${TenantField.RETRIES}'), -1)
  end
end
-- Where a task counts as submitted, moved by its priority (PRIORITY_SHIFT x PRIORITY_OFFSET_MS).
local PRIORITY_SHIFT = { ${Object.entries(PRIORITY_SHIFT).map(([name, shift]) => `${name} = ${shift}`).join(', ')} }
local function priority_order(order, priority, offset_ms)
  return tonumber(order) + (PRIORITY_SHIFT[priority or 'NORMAL'] or 0) * tonumber(offset_ms) * 1000
end
`,
};
