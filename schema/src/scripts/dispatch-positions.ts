/**
 * Where waiting tasks stand: `dispatchPositions`, read-only, replays the dispatcher's order
 * (docs/dispatch.md) from the state in Redis at one instant, for a batch of tasks at once.
 *
 * A task's position is how many tasks start before it if nothing else arrived: the tasks ahead
 * of it in its own tenant's order, plus, for every other tenant with work (listed, or held at its
 * cap: caps are taken to let tasks through in order), its tasks whose start tag comes before
 * this task's. A paused tenant's tasks have no position; neither has a task that is not in a
 * line (running, finished, delayed). The replay walks at most `maxSteps` tasks in all; a task
 * further back than that has no position either.
 */
import { DispatchField, READY_ORDER_DIGITS, TenantField, WAIT_REASONS, WaitReason } from '../dispatch.ts';
import { LINE_KEYS, LINE_TEMPLATES, LINES, RUNNING_TEMPLATE } from './dispatch-lines.ts';
import { defineTaskScript, replyList } from './kit/define.ts';
import { TASK_TEMPLATES } from './kit/templates.ts';

const STATE = 'DISPATCH_STATE_KEY';

/** Where one task stands: its position (null: none, see above) and why it waits (null: it does not). */
export interface TaskStanding {
  position: number | null;
  waitReason: WaitReason | null;
}

export const dispatchPositions = defineTaskScript({
  shared: 'none',
  keys: [...LINE_KEYS, 'capWake'],
  args: ['taskIds', 'retryRatio', 'maxSteps'],
  templates: [...TASK_TEMPLATES, ...LINE_TEMPLATES, RUNNING_TEMPLATE],
  uses: [LINES],
  body: `
local now = now_ms()
local ratio = tonumber(RETRY_RATIO)
local steps_left = tonumber(MAX_STEPS)
local ids = cjson.decode(TASK_IDS)
local tokens_wait = tonumber(redis.call('HGET', ${STATE}, '${DispatchField.TOKENS_WAIT_UNTIL}') or '0') or 0

-- The tenants the replay covers: listed ones at their tag and member, held ones at their stored tag.
local tenants, policy = {}, {}
local listed = redis.call('ZRANGE', READY_KEY, 0, -1, 'WITHSCORES')
for i = 1, #listed, 2 do
  local tenant = string.sub(listed[i], ${READY_ORDER_DIGITS} + 2)
  tenants[tenant] = { tag = tonumber(listed[i + 1]), member = listed[i] }
end
local function policy_of(tenant)
  if not policy[tenant] then
    local f = redis.call('HMGET', ${STATE}, tenant_field(tenant, '${TenantField.WEIGHT}'), tenant_field(tenant, '${TenantField.CAP}'),
      tenant_field(tenant, '${TenantField.PAUSED}'), tenant_field(tenant, '${TenantField.BLOCKED}'), tenant_field(tenant, '${TenantField.TAG}'),
      tenant_field(tenant, '${TenantField.CREDIT}'))
    policy[tenant] = { weight = tonumber(f[1] or '1'), cap = tonumber(f[2] or '0'), paused = f[3] == '1', blocked = f[4],
      tag = tonumber(f[5] or '0') or 0, credit = tonumber(f[6] or '0') or 0 }
    if not tenants[tenant] and f[4] == 'cap' and not policy[tenant].paused then tenants[tenant] = { tag = policy[tenant].tag, member = '' } end
  end
  return policy[tenant]
end
for _, tenant in ipairs(redis.call('ZRANGE', CAP_WAKE_KEY, 0, -1)) do policy_of(tenant) end

-- Walks a tenant's tasks in the order it would start them (its two lines by RETRY_RATIO),
-- calling visit(id, start_tag, member) until it returns false, the lines end or the steps run
-- out. \`member\` is the tenant's ready member when that task's turn comes: a tie between tags
-- goes to the smaller one, as in the dispatcher (after a start it names the task just started).
local function walk(tenant, visit)
  local p, at = policy_of(tenant), tenants[tenant]
  local lines = {}
  for _, lane in ipairs({'new', 'retry'}) do lines[lane] = { key = line_of(lane, tenant), from = 0, page = {}, i = 1 } end
  local function peek(line)
    if line.i > #line.page then
      if line.done then return nil end
      local flat = redis.call('ZRANGE', line.key, line.from, line.from + 99, 'WITHSCORES')
      line.page, line.scores = {}, {}
      for i = 1, #flat, 2 do line.page[#line.page + 1] = flat[i]; line.scores[#line.scores + 1] = tonumber(flat[i + 1]) end
      line.from, line.i = line.from + 100, 1
      if #line.page < 100 then line.done = true end
    end
    return line.page[line.i]
  end
  local credit, tag, ready = p.credit, at.tag, at.member
  while steps_left > 0 do
    local fresh, retry = peek(lines.new), peek(lines.retry)
    if not fresh and not retry then return end
    local lane = fresh and 'new' or 'retry'
    if fresh and retry then
      credit = credit + 2 * ratio - 1
      if credit > 0 then lane, credit = 'retry', credit - 1 else credit = credit + 1 end
    end
    local line = lines[lane]
    local member, prio = line.page[line.i], line.scores[line.i]
    line.i = line.i + 1
    steps_left = steps_left - 1
    local bar = string.find(member, '|', 1, true)
    if visit(string.sub(member, bar + 1), tag, ready) == false then return end
    tag = tag + tonumber(string.sub(member, 1, bar - 1)) / p.weight
    ready = ready_member(prio, tenant)
  end
end

-- Each target: its reason, and for a queued one its tenant's rank and start tag.
local targets, by_tenant, furthest = {}, {}, nil
for i, id in ipairs(ids) do
  local t = redis.call('HMGET', key_of(TASK_TEMPLATE, id), 'state', 'tenant', 'queued', 'waitReason')
  local target = { id = id, reason = '', position = -1 }
  targets[i] = target
  if t[1] == 'PENDING' or t[1] == 'SCHEDULED' then
    if t[3] and t[3] ~= '' then
      local p = policy_of(t[2])
      if p.paused then target.reason = '${WaitReason.TENANT_PAUSED}'
      else
        target.tenant = t[2]
        -- A task named twice is one target with two answers: the later copy shares the first's.
        by_tenant[t[2]] = by_tenant[t[2]] or {}
        local same = by_tenant[t[2]][id]
        if same then targets[i] = same else by_tenant[t[2]][id] = target end
        if p.blocked == 'cap' then target.reason = '${WaitReason.TENANT_CAP}'
        elseif tokens_wait > now then target.reason = '${WaitReason.PROVIDER_TOKENS}'
        else target.reason = '${WaitReason.QUEUED}' end
      end
    else
      target.reason = (t[4] and t[4] ~= '') and t[4] or (t[1] == 'PENDING' and '${WaitReason.QUEUED}' or '${WaitReason.RETRY_DELAY}')
    end
  end
end
for tenant, wanted in pairs(by_tenant) do
  local rank, left = 0, 0
  for _ in pairs(wanted) do left = left + 1 end
  if tenants[tenant] then
    walk(tenant, function(id, tag, member)
      local target = wanted[id]
      if target then
        target.rank, target.tag, target.member = rank, tag, member
        if not furthest or tag > furthest then furthest = tag end
        left = left - 1
        if left == 0 then return false end
      end
      rank = rank + 1
    end)
  end
end

-- Every other tenant's tasks that start before each target.
if furthest then
  for tenant, at in pairs(tenants) do
    local starts, members = {}, {}
    walk(tenant, function(_, tag, member)
      if tag > furthest then return false end
      starts[#starts + 1], members[#members + 1] = tag, member
    end)
    for _, target in ipairs(targets) do
      if target.tag and target.tenant ~= tenant then
        -- Start tags are in order: count those before the target's (ties: the older work first).
        local lo, hi = 1, #starts + 1
        while lo < hi do
          local mid = math.floor((lo + hi) / 2)
          if starts[mid] < target.tag or (starts[mid] == target.tag and members[mid] < target.member) then lo = mid + 1 else hi = mid end
        end
        target.ahead = (target.ahead or 0) + lo - 1
      end
    end
  end
end
local reply = {}
for _, target in ipairs(targets) do
  local position = -1
  if target.tag and steps_left > 0 then position = target.rank + (target.ahead or 0) end
  reply[#reply + 1] = str(position)
  reply[#reply + 1] = target.reason
end
return reply
`,
  decode(raw): TaskStanding[] {
    const values = Array.isArray(raw) && raw.length === 0 ? [] : replyList(raw);
    const standings: TaskStanding[] = [];
    for (let i = 0; i + 1 < values.length; i += 2) {
      const position = Number(values[i]);
      const reason = values[i + 1] as WaitReason;
      standings.push({ position: position >= 0 ? position : null, waitReason: WAIT_REASONS.includes(reason) ? reason : null });
    }
    return standings;
  },
});
