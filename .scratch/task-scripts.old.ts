/**
 * The Lua scripts that are the only writers of a task record. Each one checks the state
 * (and, for a worker, its lease token) it expects, writes the hash, bumps `version`, moves
 * the task between state indexes, appends the change to the task's capped event stream and
 * publishes it: all in one atomic step, so readers never see half a transition.
 *
 * Every script takes the same leading KEYS and ARGV (see `taskScriptKeys` / `taskScriptArgs`):
 *   KEYS[1] task hash   KEYS[2] event stream   KEYS[3] index of all tasks
 *   KEYS[4..9] state indexes in TASK_STATES order (PENDING ACTIVE SCHEDULED COMPLETED DLQ CANCELLED)
 *   KEYS[10..19] dead-letter indexes by error class, in ERROR_CLASSES order
 *   KEYS[20] finished tasks by finish time (COMPLETED, CANCELLED: what retention expires)
 *   KEYS[21] prefix of the per-minute flow counters (`taskFlowBucket` without its minute)
 *   ARGV[1] stream cap   ARGV[2] all-tasks channel   ARGV[3] actor (worker id or '')
 * Script-specific KEYS and ARGV follow and are listed on each script.
 * The all-tasks and state indexes also have one slice per tenant (`<index>:tenant:<tenant>`,
 * mirrored by `RedisKeys.tenantSlice`), so a tenant's listings and counts need no filtering.
 * Times come from Redis' clock (TIME), so hosts with skewed clocks agree on leases and due
 * times. A worker's write needs its lease token to be current, not unexpired: a worker whose
 * lease ran out may still finish if nobody has taken the task over, and then its is the one
 * result.
 */
import type { RedisKeys } from './redis-keys.ts';
import { ERROR_CLASSES, TASK_STATES } from './task.ts';
import { LATENCY_BUCKETS_MS } from './task-stats.ts';

/** How long a per-minute flow counter is kept (the dashboard shows at most the last hour). */
export const FLOW_BUCKET_TTL_MS = 2 * 60 * 60 * 1000;

const PRELUDE = `
local TASK_KEY, EVENTS_KEY, ALL_KEY = KEYS[1], KEYS[2], KEYS[3]
local INDEX = {}
for i, state in ipairs({${TASK_STATES.map((s) => `'${s}'`).join(', ')}}) do INDEX[state] = KEYS[3 + i] end
local DLQ_INDEX = {}
for i, class in ipairs({${ERROR_CLASSES.map((c) => `'${c}'`).join(', ')}}) do DLQ_INDEX[class] = KEYS[${3 + TASK_STATES.length} + i] end
local FINISHED_KEY = KEYS[${4 + TASK_STATES.length + ERROR_CLASSES.length}]
local FLOW_PREFIX = KEYS[${5 + TASK_STATES.length + ERROR_CLASSES.length}]
local MAX_EVENTS, TASKS_CHANNEL, ACTOR = ARGV[1], ARGV[2], ARGV[3]

local function tenant_slice(index_key, tenant) return index_key .. ':tenant:' .. tenant end

local function now_ms_uncached()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- One clock reading per script: a transition happens at one instant (and TIME is a command).
local NOW = nil
local function now_ms()
  if not NOW then NOW = now_ms_uncached() end
  return NOW
end

-- Integers as digits (tostring would give 1.8e+15), fractions as they are.
local function str(value)
  if type(value) == 'number' and value == math.floor(value) then return string.format('%d', value) end
  return tostring(value)
end

-- Cluster-wide counters for /metrics (see task-stats.ts for the field names). count() and
-- observe() only gather; flush_stats() writes them, which commit() does for every transition.
local STATS_KEY = ALL_KEY .. ':stats'
local LATENCY_BUCKETS_MS = {${LATENCY_BUCKETS_MS.join(', ')}}
local STATS_FIELDS, STATS_BY = {}, {}
local function count(field, by)
  if STATS_BY[field] == nil then
    STATS_FIELDS[#STATS_FIELDS + 1] = field
    STATS_BY[field] = 0
  end
  STATS_BY[field] = STATS_BY[field] + (by or 1)
end
local function observe(name, ms)
  local bucket = '+Inf'
  for _, le in ipairs(LATENCY_BUCKETS_MS) do
    if ms <= le then bucket = tostring(le); break end
  end
  count(name .. ':le:' .. bucket)
  count(name .. ':sum_ms', math.max(0, math.floor(ms)))
  count(name .. ':count')
end
-- One HINCRBY for a single field; for several, one HMGET and one HSET instead of one HINCRBY
-- each (the script is atomic: nothing can change the hash between the read and the write).
local function flush_stats()
  local n = #STATS_FIELDS
  if n == 1 then
    redis.call('HINCRBY', STATS_KEY, STATS_FIELDS[1], STATS_BY[STATS_FIELDS[1]])
  elseif n > 1 then
    local current = redis.call('HMGET', STATS_KEY, unpack(STATS_FIELDS))
    local set = {}
    for i, field in ipairs(STATS_FIELDS) do
      set[#set + 1] = field
      set[#set + 1] = str((tonumber(current[i]) or 0) + STATS_BY[field])
    end
    redis.call('HSET', STATS_KEY, unpack(set))
  end
  STATS_FIELDS, STATS_BY = {}, {}
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
local function count_flow(from, to, now)
  local bucket = FLOW_PREFIX .. str(now - now % 60000)
  if redis.call('HINCRBY', bucket, (from or '') .. '>' .. (to or ''), 1) == 1 then
    redis.call('PEXPIRE', bucket, ${FLOW_BUCKET_TTL_MS})
  end
end

local function read_task()
  local flat = redis.call('HGETALL', TASK_KEY)
  if #flat == 0 then return nil end
  local task = {}
  for i = 1, #flat, 2 do task[flat[i]] = flat[i + 1] end
  return task
end

-- The event payload: the record without its content (large) and lease token (a fence, not data).
local function emit(task, kind, reason, now)
  local payload = {}
  for field, value in pairs(task) do
    if field ~= 'content' and field ~= 'leaseToken' then payload[field] = value end
  end
  local json = cjson.encode(payload)
  redis.call('XADD', EVENTS_KEY, 'MAXLEN', '~', MAX_EVENTS, '0-' .. task.version,
    'kind', kind, 'version', task.version, 'state', task.state, 'at', str(now),
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
  local version = tonumber(task.version) + 1
  changes.version = version
  changes.updatedAt = now
  local set, del = {}, {}
  for field, value in pairs(changes) do
    if value == false then
      -- Only fields the record has: an HDEL of nothing is still a command.
      if task[field] ~= nil then del[#del + 1] = field end
      task[field] = nil
    else
      set[#set + 1] = field
      set[#set + 1] = str(value)
      task[field] = str(value)
    end
  end
  redis.call('HSET', TASK_KEY, unpack(set))
  if #del > 0 then redis.call('HDEL', TASK_KEY, unpack(del)) end
  if task.state ~= old_state then
    count_flow(old_state, task.state, now)
    redis.call('ZREM', INDEX[old_state], task.id)
    redis.call('ZADD', INDEX[task.state], task.order, task.id)
    redis.call('ZREM', tenant_slice(INDEX[old_state], task.tenant), task.id)
    redis.call('ZADD', tenant_slice(INDEX[task.state], task.tenant), task.order, task.id)
    count('entered:' .. task.state)
  end
  if task.state == 'COMPLETED' or task.state == 'CANCELLED' then
    redis.call('ZADD', FINISHED_KEY, now, task.id)
  elseif old_state == 'COMPLETED' or old_state == 'CANCELLED' then
    redis.call('ZREM', FINISHED_KEY, task.id)
  end
  if old_dlq_class and old_dlq_class ~= task.dlqClass then redis.call('ZREM', DLQ_INDEX[old_dlq_class], task.id) end
  if task.dlqClass and task.dlqClass ~= old_dlq_class then redis.call('ZADD', DLQ_INDEX[task.dlqClass], task.order, task.id) end
  flush_stats()
  emit(task, kind, reason, now)
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

/**
 * create: a new PENDING task, queued, or the task an idempotency key already names.
 * KEYS[22] creation counter   KEYS[23] id index
 * KEYS[24] primary queue's bee-queue `jobs` hash   KEYS[25] its `waiting` list
 * KEYS[26] idempotency key (optional)
 * ARGV[4] id  ARGV[5] tenant  ARGV[6] type  ARGV[7] content  ARGV[8] maxRetries
 * ARGV[9] idempotency key ('' none)  ARGV[10] idempotency TTL in seconds
 * ARGV[11] the task's job, as bee-queue stores it (`encodeBeeQueueJob`); '' stores the task unqueued
 * The job goes on the queue in the same step as the record (what bee-queue's addJob does with a
 * given id: HSET jobs, LPUSH waiting), so a submit is one round trip and no task is stored
 * without its job. The job id is the new task's id, which no job can have yet.
 * Returns {'created', version, field, value, ...} (the record it stored, so the caller need not
 * read it back) | {'existing', id} | {'conflict', id}.
 */
const CREATE = `
local idem_key = KEYS[26]
local fingerprint = redis.sha1hex(ARGV[6] .. '\\0' .. ARGV[7])
if idem_key then
  local existing = redis.call('GET', idem_key)
  if existing then
    local sep = string.find(existing, ':', 1, true)
    local existing_id, existing_fingerprint = string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)
    if existing_fingerprint == fingerprint then return {'existing', existing_id} end
    return {'conflict', existing_id}
  end
end
local now = now_ms()
-- Unique, time-ordered score: creation ms with a 3-digit sequence (fits a double exactly).
local order = string.format('%d', now * 1000 + (redis.call('INCR', KEYS[22]) % 1000))
local task = {
  id = ARGV[4], tenant = ARGV[5], type = ARGV[6], state = 'PENDING', version = '1',
  content = ARGV[7], progress = '0', retryCount = '0', maxRetries = ARGV[8], attempt = '0',
  errors = '[]', createdAt = str(now), updatedAt = str(now), order = order,
}
if idem_key then task.idempotencyKey = ARGV[9] end
local flat = {}
for field, value in pairs(task) do flat[#flat + 1] = field; flat[#flat + 1] = value end
redis.call('HSET', TASK_KEY, unpack(flat))
redis.call('ZADD', ALL_KEY, order, task.id)
redis.call('ZADD', INDEX['PENDING'], order, task.id)
redis.call('ZADD', tenant_slice(ALL_KEY, task.tenant), order, task.id)
redis.call('ZADD', tenant_slice(INDEX['PENDING'], task.tenant), order, task.id)
count('submitted:' .. task.type)
count('entered:PENDING')
redis.call('ZADD', KEYS[23], 0, task.id)
if idem_key then
  redis.call('SET', idem_key, task.id .. ':' .. fingerprint, 'EX', tonumber(ARGV[10]))
end
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[24], task.id, ARGV[11])
  redis.call('LPUSH', KEYS[25], task.id)
end
count_flow(nil, 'PENDING', now)
flush_stats()
emit(task, 'transition', 'submitted', now)
return {'created', 1, unpack(flat)}
`;

/**
 * claim: a worker takes a PENDING task, a SCHEDULED one whose retry is due, or an ACTIVE one
 * whose lease ran out (its holder stalled: that attempt is recorded as STALLED and counts
 * against the budget).
 * ARGV[4] lease token  ARGV[5] lease ms
 * Returns {'claimed', version, attempt, content, type, retryCount, maxRetries} (what the handler
 *       needs, so the worker need not read the record back) | {'busy', leaseExpiresAt}
 *       | {'early', nextAttemptAt} | {'exhausted', version} | {'unclaimable', state} | {'missing'}.
 */
const CLAIM = `
local task = read_task()
if not task then return {'missing'} end
local now = now_ms()
if task.state == 'ACTIVE' then
  if tonumber(task.leaseExpiresAt or '0') > now then return {'busy', task.leaseExpiresAt} end
elseif task.state == 'SCHEDULED' then
  -- A stray job (a lease check, a takeover) must not cut a retry delay short.
  if tonumber(task.nextAttemptAt or '0') > now then return {'early', task.nextAttemptAt} end
elseif task.state ~= 'PENDING' then
  return {'unclaimable', task.state}
end
local attempt = tonumber(task.attempt) + 1
local changes = {}
-- A hand-back counts only for the takeover that follows it.
if task.released then changes.released = false end
if task.state == 'ACTIVE' and task.released == '1' then
  -- Its worker handed it back at shutdown: a takeover that costs no retry.
elseif task.state == 'ACTIVE' then
  local retry_count = tonumber(task.retryCount) + 1
  changes.retryCount = retry_count
  changes.errors = with_error(task, cjson.encode({
    errorClass = 'STALLED', message = 'worker lost its lease', httpStatus = cjson.null,
    attempt = attempt - 1, at = now }))
  count('failed:STALLED')
  if retry_count > tonumber(task.maxRetries) then
    changes.state = 'DLQ'
    changes.dlqClass = 'STALLED'
    changes.leaseToken = false
    changes.leaseExpiresAt = false
    return {'exhausted', commit(task, changes, 'transition', 'STALLED')}
  end
end
changes.state = 'ACTIVE'
changes.attempt = attempt
changes.progress = 0
changes.leaseToken = ARGV[4]
changes.leaseExpiresAt = now + tonumber(ARGV[5])
changes.workerId = ACTOR
changes.nextAttemptAt = false
if not task.startedAt then
  changes.startedAt = now
  observe('wait', now - tonumber(task.createdAt))
end
local reason = 'claimed'
if task.state == 'ACTIVE' then reason = task.released == '1' and 'resumed after its worker shut down' or 'reclaimed after lease expiry' end
local version = commit(task, changes, 'transition', reason)
return {'claimed', version, attempt, task.content, task.type, task.retryCount, task.maxRetries}
`;

/**
 * renew: extends the lease of the worker that holds it. No version bump, no event.
 * ARGV[4] lease token  ARGV[5] lease ms.  Returns 1, or 0 when the lease is no longer held.
 */
const RENEW = `
local task = read_task()
if not task or not holds_lease(task, ARGV[4]) then return 0 end
redis.call('HSET', TASK_KEY, 'leaseExpiresAt', str(now_ms() + tonumber(ARGV[5])))
return 1
`;

/**
 * release: the lease holder hands the task back because it is shutting down: the lease ends
 * now and the next claim takes the task over without counting a stall. No version bump.
 * ARGV[4] lease token.  Returns 1, or 0 when the lease is no longer held.
 */
const RELEASE = `
local task = read_task()
if not task or not holds_lease(task, ARGV[4]) then return 0 end
redis.call('HSET', TASK_KEY, 'leaseExpiresAt', str(now_ms()), 'released', '1')
return 1
`;

/**
 * progress: the lease holder reports progress (0..1).
 * ARGV[4] lease token  ARGV[5] progress.  Returns {'ok', version} | {'stale', state}.
 */
const PROGRESS = `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, ARGV[4]) then return stale(task.state) end
return {'ok', commit(task, { progress = tonumber(ARGV[5]) }, 'progress', '')}
`;

/**
 * complete: the lease holder stores the result; the task becomes COMPLETED.
 * ARGV[4] lease token  ARGV[5] result  ARGV[6] usage JSON ('' none).
 * Optionally the bee-queue job that delivered the task, finished here whatever the outcome, so
 * the worker needs no second round trip (bee-queue's own success finish, with removeOnSuccess
 * and no events: see common/bee-queue.ts): KEYS[22] its queue's active list  KEYS[23] stalling
 * set  KEYS[24] jobs hash  ARGV[7] job id.
 * Returns {'ok', version} | {'stale', state}: a stale write changes nothing but the job.
 */
const COMPLETE = `
if KEYS[22] then
  redis.call('LREM', KEYS[22], 0, ARGV[7])
  redis.call('SREM', KEYS[23], ARGV[7])
  redis.call('HDEL', KEYS[24], ARGV[7])
end
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, ARGV[4]) then return stale(task.state) end
local now = now_ms()
local changes = { state = 'COMPLETED', result = ARGV[5], progress = 1, completedAt = now,
  leaseToken = false, leaseExpiresAt = false }
observe('duration', now - tonumber(task.startedAt or now))
count('completed:' .. task.type)
if ARGV[6] ~= '' then changes.usage = ARGV[6] end
return {'ok', commit(task, changes, 'transition', 'completed')}
`;

/**
 * fail: the lease holder records a failed attempt; the task waits for a retry (SCHEDULED,
 * counting one retry) or goes to the dead letter queue (DLQ). The caller decides which.
 * ARGV[4] lease token  ARGV[5] next state  ARGV[6] error JSON  ARGV[7] retry delay ms ('' none)
 * ARGV[8] reason.  Returns {'ok', version, nextAttemptAt} | {'stale', state}; the error's time
 * and the retry time are taken from Redis' clock, like every other time in the record.
 */
const FAIL = `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, ARGV[4]) then return stale(task.state) end
local failure = cjson.decode(ARGV[6])
count('failed:' .. failure.errorClass)
local now = now_ms()
failure.at = now
local changes = { state = ARGV[5], leaseToken = false, leaseExpiresAt = false }
local next_attempt_at = ''
if ARGV[5] == 'SCHEDULED' then
  changes.retryCount = tonumber(task.retryCount) + 1
  next_attempt_at = now + tonumber(ARGV[7])
  changes.nextAttemptAt = next_attempt_at
  failure.nextAttemptAt = next_attempt_at
else
  changes.dlqClass = failure.errorClass
end
changes.errors = with_error(task, cjson.encode(failure))
return {'ok', commit(task, changes, 'transition', ARGV[8]), str(next_attempt_at)}
`;

/**
 * defer: the lease holder puts the task back to wait without calling the provider (its
 * circuit breaker is open): SCHEDULED again, with no error and no retry counted.
 * ARGV[4] lease token  ARGV[5] delay ms  ARGV[6] reason.
 * Returns {'ok', version, nextAttemptAt} | {'stale', state}.
 */
const DEFER = `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, ARGV[4]) then return stale(task.state) end
local next_attempt_at = now_ms() + tonumber(ARGV[5])
local version = commit(task, { state = 'SCHEDULED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = next_attempt_at }, 'transition', ARGV[6])
return {'ok', version, str(next_attempt_at)}
`;

/**
 * cancel: an operator stops a PENDING, SCHEDULED or ACTIVE task. An ACTIVE task's lease is
 * dropped, so its worker's result is rejected as stale, and its id is published on the
 * cancel channel so the worker aborts the provider call at once. Whichever of cancel and
 * complete runs first wins; the other changes nothing.
 * ARGV[4] reason  ARGV[5] cancel channel.
 * Returns {'ok', version} | {'conflict', state} | {'missing'}.
 */
const CANCEL = `
local task = read_task()
if not task then return {'missing'} end
local state = task.state
if state ~= 'PENDING' and state ~= 'SCHEDULED' and state ~= 'ACTIVE' then return {'conflict', state} end
local version = commit(task, { state = 'CANCELLED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = false }, 'transition', ARGV[4])
if state == 'ACTIVE' then redis.call('PUBLISH', ARGV[5], task.id) end
return {'ok', version}
`;

/**
 * reopen: an operator sends a DLQ or CANCELLED task back to work (PENDING). The caller then
 * queues it on the retry queue. Leaving the DLQ and the state change are one step.
 * ARGV[4] '1' to reset the retry count  ARGV[5] reason.
 * Returns {'ok', version} | {'conflict', state} | {'missing'}.
 */
const REOPEN = `
local task = read_task()
if not task then return {'missing'} end
if task.state ~= 'DLQ' and task.state ~= 'CANCELLED' then return {'conflict', task.state} end
local changes = { state = 'PENDING', progress = 0, dlqClass = false, nextAttemptAt = false,
  reopens = tonumber(task.reopens or '0') + 1 }
if ARGV[4] == '1' then changes.retryCount = 0 end
return {'ok', commit(task, changes, 'transition', ARGV[5])}
`;

/**
 * delete: removes the task everywhere (record, events, indexes, idempotency key). A worker
 * still running it is told to abort, and its later writes find nothing and change nothing.
 * Subscribers get a deletion notice instead of a change.
 * KEYS[22] id index   KEYS[23] idempotency key (optional)   ARGV[4] cancel channel.
 * Returns {'ok', state} | {'missing'}.
 */
const DELETE = `
local task = read_task()
if not task then return {'missing'} end
redis.call('DEL', TASK_KEY, EVENTS_KEY)
redis.call('ZREM', ALL_KEY, task.id)
redis.call('ZREM', INDEX[task.state], task.id)
redis.call('ZREM', tenant_slice(ALL_KEY, task.tenant), task.id)
redis.call('ZREM', tenant_slice(INDEX[task.state], task.tenant), task.id)
if task.dlqClass then redis.call('ZREM', DLQ_INDEX[task.dlqClass], task.id) end
redis.call('ZREM', KEYS[22], task.id)
redis.call('ZREM', FINISHED_KEY, task.id)
local idem_key = KEYS[23]
if idem_key then
  local value = redis.call('GET', idem_key)
  if value and string.sub(value, 1, #task.id + 1) == task.id .. ':' then redis.call('DEL', idem_key) end
end
if task.state == 'ACTIVE' then redis.call('PUBLISH', ARGV[4], task.id) end
count_flow(task.state, nil, now_ms())
local notice = cjson.encode({ id = task.id, tenant = task.tenant, deleted = '1' })
redis.call('PUBLISH', TASKS_CHANNEL, notice)
return {'ok', task.state}
`;

/** Script name -> Lua source (prelude included). Register with ioredis `defineCommand`. */
export const TASK_SCRIPTS = {
  taskCreate: PRELUDE + CREATE,
  taskClaim: PRELUDE + CLAIM,
  taskRenew: PRELUDE + RENEW,
  taskRelease: PRELUDE + RELEASE,
  taskProgress: PRELUDE + PROGRESS,
  taskComplete: PRELUDE + COMPLETE,
  taskFail: PRELUDE + FAIL,
  taskDefer: PRELUDE + DEFER,
  taskCancel: PRELUDE + CANCEL,
  taskReopen: PRELUDE + REOPEN,
  taskDelete: PRELUDE + DELETE,
} as const;
export type TaskScriptName = keyof typeof TASK_SCRIPTS;

/** The KEYS every task script starts with. */
export function taskScriptKeys(keys: RedisKeys, taskId: string): string[] {
  return [
    keys.task(taskId),
    keys.taskEvents(taskId),
    keys.tasksAll(),
    ...TASK_STATES.map((state) => keys.tasksInState(state)),
    ...ERROR_CLASSES.map((errorClass) => keys.deadLetterByClass(errorClass)),
    keys.tasksFinished(),
    keys.taskFlowPrefix(),
  ];
}

/** The ARGV every task script starts with. */
export function taskScriptArgs(
  keys: RedisKeys,
  options: { maxEvents: number; actor: string },
): string[] {
  return [String(options.maxEvents), keys.tasksChannel(), options.actor];
}
