/**
 * The Lua prelude every task script shares: the clock, number formatting, the /metrics counters
 * (task-stats.ts names their fields), the per-minute flow counter, the tenant check, reading the
 * record, and `commit()`, the one atomic step of every transition. A transition checks the state
 * (and, for a worker, its lease token) it expects, writes the hash, bumps `version`, moves the
 * task between state indexes, appends the change to the task's capped event stream and
 * publishes it on the tasks channel: all in one step, so readers never see half a transition.
 *
 * The tenant names the slices passed in. A script that finds the task under another tenant
 * changes nothing and fails with `WRONGTENANT "<tenant>"`; the caller runs it again with that
 * tenant (common/task-script-runner.ts), so a caller that does not know it yet may pass ''.
 *
 * Times come from Redis' clock (TIME), so hosts with skewed clocks agree on leases and due
 * times; only the per-minute flow counter is picked by the caller's clock. A worker's write
 * needs its lease token to be current, not unexpired: a worker whose lease ran out may still
 * finish if nobody has taken the task over, and then its is the one result.
 */
import { LATENCY_BUCKETS_MS } from '../task-stats.ts';

/** How long a per-minute flow counter is kept (the dashboard shows at most the last hour). */
export const FLOW_BUCKET_TTL_MS = 2 * 60 * 60 * 1000;

/** `n` nils: a table constructor of them makes an array part that size, which the code fills. */
const nils = (n: number) => Array.from({ length: n }, () => 'nil').join(', ');

/** The helpers every script shares, after its bindings (kit/define.ts) and before its body. */
export const PRELUDE = `
-- One clock reading per script: a transition happens at one instant (and TIME is a command).
-- Numbers the scripts wrote themselves (TIME's, a record's version, attempt and times, the
-- dispatcher's scores and state) are read by arithmetic, which parses a string once; tonumber()
-- parses it twice, and stays where a value that is not a number must read as nil.
local NOW = nil
local function now_ms()
  if not NOW then
    local t = redis.call('TIME')
    NOW = t[1] * 1000 + math.floor(t[2] / 1000)
  end
  return NOW
end

-- A key of a family the script fills in itself (kit/templates.ts): the template with its NUL
-- replaced by \`value\` and its SOH, when it has one (a tenant slice's, before the NUL), by
-- \`base\`. The only way a script makes a key name. Plain finds and one concatenation: a template
-- split into pieces cached for the call cost more to split than the few keys it fills saved.
local function key_of(template, value, base)
  local at = string.find(template, '\\0', 1, true)
  local soh = base and string.find(template, '\\1', 1, true)
  if soh then
    return string.sub(template, 1, soh - 1) .. base .. string.sub(template, soh + 1, at - 1) .. value .. string.sub(template, at + 1)
  end
  return string.sub(template, 1, at - 1) .. value .. string.sub(template, at + 1)
end

-- Integers as digits (tostring would give 1.8e+15), fractions as they are.
local function str(value)
  local kind = type(value)
  if kind == 'string' then return value end
  if kind == 'number' and value == math.floor(value) then return string.format('%d', value) end
  return tostring(value)
end

-- Cluster-wide counters for /metrics (see task-stats.ts for the field names). count() and
-- observe() only gather; flush_stats() writes them, which commit() does for every transition.
-- The fields in the order first counted and their amounts side by side: a field counted again
-- is found by a scan of the few so far, cheaper than a table by name grown field by field (and
-- the amounts are add_counts' list as they are).
local STATS_FIELDS, STATS_AMOUNTS, STATS_N = {}, {}, 0
local function count(field, by)
  for i = 1, STATS_N do
    if STATS_FIELDS[i] == field then
      STATS_AMOUNTS[i] = STATS_AMOUNTS[i] + (by or 1)
      return
    end
  end
  STATS_N = STATS_N + 1
  STATS_FIELDS[STATS_N] = field
  STATS_AMOUNTS[STATS_N] = 0 + (by or 1)
end
-- The bucket is picked by a chain of comparisons with its label written out: no table of bounds
-- built for every call, no number formatted.
local function observe(name, ms)
  local bucket = '+Inf'
  ${LATENCY_BUCKETS_MS.map((le, i) => `${i === 0 ? 'if' : 'elseif'} ms <= ${le} then bucket = '${le}'`).join('\n  ')}
  end
  -- No \`:count\` field: the count is the sum of the buckets (task-stats.ts \`histogram\`), and
  -- every field costs each transition a read and a write of the stats hash.
  count(name .. ':le:' .. bucket)
  count(name .. ':sum_ms', math.max(0, math.floor(ms)))
end
-- Adds \`amounts[i]\` to each counter \`fields[i]\` of the hash \`key\` with one HMGET and one HSET
-- rather than an HINCRBY each (the script is atomic: nothing changes the hash in between). Lua
-- numbers are exact only below 2^53, so a counter that would pass it is left to HINCRBY.
-- Returns what the counters held before (false: not there).
local EXACT_BELOW = 9007199254740992
local function add_counts(key, fields, amounts)
  local current = redis.call('HMGET', key, unpack(fields))
  -- Sized by its constructor for the usual few counters (nils, not yet entries): grown pair by
  -- pair, a table is rehashed at every power of two.
  local set, n = { ${nils(16)} }, 0
  for i, field in ipairs(fields) do
    local sum = (tonumber(current[i]) or 0) + amounts[i]
    if math.abs(sum) < EXACT_BELOW then
      set[n + 1] = field
      set[n + 2] = str(sum)
      n = n + 2
    else
      redis.call('HINCRBY', key, field, amounts[i])
    end
  end
  if n > 0 then redis.call('HSET', key, unpack(set, 1, n)) end
  return current
end
-- One HINCRBY for a single field; for several, add_counts (one HMGET and one HSET). An HINCRBY a
-- field would cost Redis fewer instructions (add_counts' tonumber and string.format of each field
-- cost more than a command each), but adds 10 commands to a task, each one more write for the
-- append-only file and the replicas: kept as it is (docs/performance.md, "Less Lua a call").
-- The usual amount, 1, goes as a string: Redis formats a number argument with snprintf('%.17g').
local function flush_stats()
  local n = STATS_N
  if n == 1 then
    local by = STATS_AMOUNTS[1]
    redis.call('HINCRBY', STATS_KEY, STATS_FIELDS[1], by == 1 and '1' or by)
  elseif n > 1 then
    add_counts(STATS_KEY, STATS_FIELDS, STATS_AMOUNTS)
  end
  STATS_FIELDS, STATS_AMOUNTS, STATS_N = {}, {}, 0
end
-- A worker write whose lease is gone: nothing changes, but it is counted.
local function stale(state)
  count('stale_writes')
  flush_stats()
  return {'stale', state}
end

-- Counts one transition in the hash of its minute (field 'FROM>TO'; '' is "none": submitted,
-- deleted). Buckets expire, so the counters stay small; every server reads the same ones.
-- A bucket only ever counts its own minute, so its expiry is set when a field is created
-- (HINCRBY answers 1), not on every count.
local function count_flow(from, to)
  if redis.call('HINCRBY', FLOW_KEY, (from or '') .. '>' .. (to or ''), '1') == 1 then
    redis.call('PEXPIRE', FLOW_KEY, ${FLOW_BUCKET_TTL_MS})
  end
end

-- The tenant slices passed in must be the task's own: otherwise stop before any change,
-- naming the tenant to call again with.
local function check_tenant(tenant)
  if tenant ~= TENANT then return error({ err = 'WRONGTENANT ' .. cjson.encode(tenant) }) end
end

-- The record, or nil when there is none. Read as a RESP3 map, which Redis hands over as the
-- table itself: a flat RESP2 reply copied pair by pair into one cost a third more.
local function read_task()
  redis.setresp(3)
  local task = redis.call('HGETALL', TASK_KEY).map
  redis.setresp(2)
  if next(task) == nil then return nil end
  check_tenant(task.tenant)
  return task
end

-- The event payload: the record without its content (large), its lease token and its usage once
-- keys (fences, not data: usage.ts RECORD_CALL).
-- The record itself is encoded, those three fields taken out and put back: a copy would cost a
-- table grown field by field on every transition. The event's time is the change's, which the
-- record's updatedAt holds already formatted (commit() and a submit set it).
local function emit(task, kind, reason)
  local content, lease_token, usage_once = task.content, task.leaseToken, task.usageOnce
  task.content, task.leaseToken, task.usageOnce = nil, nil, nil
  local json = cjson.encode(task)
  task.content, task.leaseToken, task.usageOnce = content, lease_token, usage_once
  redis.call('XADD', EVENTS_KEY, 'MAXLEN', '~', MAX_EVENTS, '0-' .. task.version,
    'kind', kind, 'version', task.version, 'state', task.state, 'at', task.updatedAt,
    'workerId', ACTOR, 'reason', reason, 'task', json)
  -- One channel for every task: API servers subscribe to it once and route by id in-process.
  redis.call('PUBLISH', TASKS_CHANNEL, json)
end

-- Applies changes (field -> value; false deletes the field), bumps the version, keeps the
-- state and dead-letter indexes in step, and emits the event. Returns the new version.
-- A move into DLQ must set changes.dlqClass; a move out of it must clear it (false).
local function commit(task, changes, kind, reason)
  local now = now_ms()
  local old_state, old_dlq_class = task.state, task.dlqClass
  -- A script declares the states it moves between (kit/define.ts \`states\`) and is passed only their
  -- indexes: a move it did not declare stops here, before any write of the transition.
  if changes.state and changes.state ~= old_state and not (INDEX[old_state] and INDEX[changes.state]) then
    return error({ err = 'UNDECLARED ' .. old_state .. '>' .. changes.state })
  end
  if changes.dlqClass and not DLQ_INDEX[changes.dlqClass] then return error({ err = 'UNDECLARED DLQ ' .. changes.dlqClass }) end
  local version = task.version + 1
  changes.version = version
  changes.updatedAt = now
  -- now is formatted once, however many fields take it (updatedAt, and startedAt or completedAt).
  local now_text = str(now)
  -- The HSET's list sized by its constructor for a claim's changes (nils, not yet entries): grown
  -- pair by pair, a table is rehashed at every power of two.
  local set, del, n_set, n_del = { ${nils(32)} }, {}, 0, 0
  for field, value in pairs(changes) do
    if value == false then
      -- Only fields the record has: an HDEL of nothing is still a command.
      if task[field] ~= nil then n_del = n_del + 1; del[n_del] = field end
      task[field] = nil
    else
      local text = value == now and now_text or str(value)
      set[n_set + 1] = field
      set[n_set + 2] = text
      n_set = n_set + 2
      task[field] = text
    end
  end
  redis.call('HSET', TASK_KEY, unpack(set, 1, n_set))
  if n_del > 0 then redis.call('HDEL', TASK_KEY, unpack(del)) end
  if task.state ~= old_state then
    count_flow(old_state, task.state)
    redis.call('ZREM', INDEX[old_state], task.id)
    redis.call('ZADD', INDEX[task.state], task.order, task.id)
    redis.call('ZREM', TENANT_INDEX[old_state], task.id)
    redis.call('ZADD', TENANT_INDEX[task.state], task.order, task.id)
    count('entered:' .. task.state)
  end
  if task.state == 'COMPLETED' or task.state == 'CANCELLED' then
    -- Its score is now, as the record's updatedAt has it formatted already (a number argument
    -- costs Redis an snprintf).
    redis.call('ZADD', FINISHED_KEY, task.updatedAt, task.id)
  elseif old_state == 'COMPLETED' or old_state == 'CANCELLED' then
    redis.call('ZREM', FINISHED_KEY, task.id)
  end
  if old_dlq_class and old_dlq_class ~= task.dlqClass then redis.call('ZREM', DLQ_INDEX[old_dlq_class], task.id) end
  if task.dlqClass and task.dlqClass ~= old_dlq_class then redis.call('ZADD', DLQ_INDEX[task.dlqClass], task.order, task.id) end
  flush_stats()
  emit(task, kind, reason)
  return version
end

-- Appends one error record to the task's JSON error list.
local function with_error(task, error_json)
  local errors = cjson.decode(task.errors or '[]')
  errors[#errors + 1] = cjson.decode(error_json)
  return cjson.encode(errors)
end

local function holds_lease(task, token)
  return task.state == 'ACTIVE' and task.leaseToken == token
end
`;
