
// --- the scripts ---------------------------------------------------------------------------

/**
 * create: a new PENDING task, queued, or the task an idempotency key already names.
 * The job goes on the queue in the same step as the record (what bee-queue's addJob does with a
 * given id: HSET jobs, LPUSH waiting), so a submit is one round trip and no task is stored
 * without its job. The job id is the new task's id, which no job can have yet. `job` is the
 * task's job as bee-queue stores it (`encodeBeeQueueJob`); '' stores the task unqueued.
 * Replies {'created', version, field, value, ...} | {'existing', id} | {'conflict', id}.
 */
const create = defineTaskScript({
  keys: ['sequence', 'ids', 'jobs', 'waiting'],
  optionalKeys: ['idempotencyEntry'],
  args: ['id', 'type', 'content', 'maxRetries', 'idempotencyKey', 'idempotencyTtlSeconds', 'job'],
  body: `
local fingerprint = redis.sha1hex(TYPE .. '\\0' .. CONTENT)
if IDEMPOTENCY_ENTRY_KEY then
  local existing = redis.call('GET', IDEMPOTENCY_ENTRY_KEY)
  if existing then
    local sep = string.find(existing, ':', 1, true)
    local existing_id, existing_fingerprint = string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)
    if existing_fingerprint == fingerprint then return {'existing', existing_id} end
    return {'conflict', existing_id}
  end
end
local now = now_ms()
-- Unique, time-ordered score: creation ms with a 3-digit sequence (fits a double exactly).
local order = string.format('%d', now * 1000 + (redis.call('INCR', SEQUENCE_KEY) % 1000))
local task = {
  id = ID, tenant = TENANT, type = TYPE, state = 'PENDING', version = '1',
  content = CONTENT, progress = '0', retryCount = '0', maxRetries = MAX_RETRIES, attempt = '0',
  errors = '[]', createdAt = str(now), updatedAt = str(now), order = order,
}
if IDEMPOTENCY_ENTRY_KEY then task.idempotencyKey = IDEMPOTENCY_KEY end
local flat = {}
for field, value in pairs(task) do flat[#flat + 1] = field; flat[#flat + 1] = value end
redis.call('HSET', TASK_KEY, unpack(flat))
redis.call('ZADD', ALL_KEY, order, task.id)
redis.call('ZADD', INDEX.PENDING, order, task.id)
redis.call('ZADD', TENANT_ALL_KEY, order, task.id)
redis.call('ZADD', TENANT_INDEX.PENDING, order, task.id)
count('submitted:' .. task.type)
count('entered:PENDING')
redis.call('ZADD', IDS_KEY, 0, task.id)
if IDEMPOTENCY_ENTRY_KEY then
  redis.call('SET', IDEMPOTENCY_ENTRY_KEY, task.id .. ':' .. fingerprint, 'EX', tonumber(IDEMPOTENCY_TTL_SECONDS))
end
if JOB ~= '' then
  redis.call('HSET', JOBS_KEY, task.id, JOB)
  redis.call('LPUSH', WAITING_KEY, task.id)
end
count_flow(nil, 'PENDING')
flush_stats()
emit(task, 'transition', 'submitted', now)
return {'created', 1, unpack(flat)}
`,
  decode(reply): CreateReply {
    const [status, ...values] = replyList(reply);
    if (status !== 'created') return { status: status === 'existing' ? 'existing' : 'conflict', taskId: values[0]! };
    const fields: Record<string, string> = {};
    for (let i = 1; i + 1 < values.length; i += 2) fields[values[i]!] = values[i + 1]!;
    return { status: 'created', fields };
  },
});

/**
 * claim: a worker takes a PENDING task, a SCHEDULED one whose retry is due, or an ACTIVE one
 * whose lease ran out (its holder stalled: that attempt is recorded as STALLED and counts
 * against the budget). Replies with what the handler needs, so the worker need not read the
 * record back.
 */
const claim = defineTaskScript({
  keys: [],
  args: ['leaseToken', 'leaseMs'],
  body: `
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
changes.leaseToken = LEASE_TOKEN
changes.leaseExpiresAt = now + tonumber(LEASE_MS)
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
`,
  decode(reply): ClaimOutcome {
    const [status, first, second, content, type, retryCount, maxRetries] = replyList(reply);
    switch (status) {
      case 'claimed':
        return {
          status,
          version: Number(first),
          attempt: Number(second),
          content: content!,
          type: type as TaskType,
          tenant: '',
          retryCount: Number(retryCount),
          maxRetries: Number(maxRetries),
        };
      case 'busy':
        return { status, leaseExpiresAt: Number(first) };
      case 'early':
        return { status, nextAttemptAt: Number(first) };
      case 'exhausted':
        return { status };
      case 'unclaimable':
        return { status, state: first ?? 'UNKNOWN' };
      default:
        return { status: 'missing' };
    }
  },
});

/** renew: extends the lease of the worker that holds it. No version bump, no event. True while held. */
const renew = defineTaskScript({
  keys: [],
  args: ['leaseToken', 'leaseMs'],
  body: `
local task = read_task()
if not task or not holds_lease(task, LEASE_TOKEN) then return 0 end
redis.call('HSET', TASK_KEY, 'leaseExpiresAt', str(now_ms() + tonumber(LEASE_MS)))
return 1
`,
  decode: decodeHeld,
});

/**
 * release: the lease holder hands the task back because it is shutting down: the lease ends
 * now and the next claim takes the task over without counting a stall. No version bump.
 * True when it still held the lease.
 */
const release = defineTaskScript({
  keys: [],
  args: ['leaseToken'],
  body: `
local task = read_task()
if not task or not holds_lease(task, LEASE_TOKEN) then return 0 end
redis.call('HSET', TASK_KEY, 'leaseExpiresAt', str(now_ms()), 'released', '1')
return 1
`,
  decode: decodeHeld,
});

/** progress: the lease holder reports progress (0..1). */
const progress = defineTaskScript({
  keys: [],
  args: ['leaseToken', 'progress'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
return {'ok', commit(task, { progress = tonumber(PROGRESS) }, 'progress', '')}
`,
  decode: decodeWrite,
});

/**
 * complete: the lease holder stores the result; the task becomes COMPLETED. `usage` is JSON
 * ('' none). With the job keys (bee-queue's own, from `jobFinishKeys`) and `jobId`, the same
 * script finishes the job that delivered the task, whatever the outcome (bee-queue's success
 * finish, with removeOnSuccess and no events: see common/bee-queue.ts), so the worker needs
 * no second round trip. A stale write changes nothing but the job.
 */
const complete = defineTaskScript({
  keys: [],
  optionalKeys: ['jobActive', 'jobStalling', 'jobs'],
  args: ['leaseToken', 'result', 'usage', 'jobId'],
  body: `
if JOBS_KEY then
  redis.call('LREM', JOB_ACTIVE_KEY, 0, JOB_ID)
  redis.call('SREM', JOB_STALLING_KEY, JOB_ID)
  redis.call('HDEL', JOBS_KEY, JOB_ID)
end
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local now = now_ms()
local changes = { state = 'COMPLETED', result = RESULT, progress = 1, completedAt = now,
  leaseToken = false, leaseExpiresAt = false }
observe('duration', now - tonumber(task.startedAt or now))
count('completed:' .. task.type)
if USAGE ~= '' then changes.usage = USAGE end
return {'ok', commit(task, changes, 'transition', 'completed')}
`,
  decode: decodeWrite,
});

/**
 * fail: the lease holder records a failed attempt; the task waits for a retry (SCHEDULED,
 * counting one retry) or goes to the dead letter queue (DLQ). The caller decides which.
 * `error` is the error's JSON; `retryDelayMs` is '' for none. The error's time and the retry
 * time are taken from Redis' clock, like every other time in the record.
 */
const fail = defineTaskScript({
  keys: [],
  args: ['leaseToken', 'nextState', 'error', 'retryDelayMs', 'reason'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local failure = cjson.decode(ERROR)
count('failed:' .. failure.errorClass)
local now = now_ms()
failure.at = now
local changes = { state = NEXT_STATE, leaseToken = false, leaseExpiresAt = false }
local next_attempt_at = ''
if NEXT_STATE == 'SCHEDULED' then
  changes.retryCount = tonumber(task.retryCount) + 1
  next_attempt_at = now + tonumber(RETRY_DELAY_MS)
  changes.nextAttemptAt = next_attempt_at
  failure.nextAttemptAt = next_attempt_at
else
  changes.dlqClass = failure.errorClass
end
changes.errors = with_error(task, cjson.encode(failure))
return {'ok', commit(task, changes, 'transition', REASON), str(next_attempt_at)}
`,
  decode: decodeWrite,
});

/**
 * defer: the lease holder puts the task back to wait without calling the provider (its
 * circuit breaker is open, or the shared rate limit says wait): SCHEDULED again, with no error
 * and no retry counted.
 */
const defer = defineTaskScript({
  keys: [],
  args: ['leaseToken', 'delayMs', 'reason'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local next_attempt_at = now_ms() + tonumber(DELAY_MS)
local version = commit(task, { state = 'SCHEDULED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = next_attempt_at }, 'transition', REASON)
return {'ok', version, str(next_attempt_at)}
`,
  decode: decodeWrite,
});

/**
 * cancel: an operator stops a PENDING, SCHEDULED or ACTIVE task. An ACTIVE task's lease is
 * dropped, so its worker's result is rejected as stale, and its id is published on the
 * cancel channel so the worker aborts the provider call at once. Whichever of cancel and
 * complete runs first wins; the other changes nothing.
 */
const cancel = defineTaskScript({
  keys: [],
  args: ['reason', 'cancelChannel'],
  body: `
local task = read_task()
if not task then return {'missing'} end
local state = task.state
if state ~= 'PENDING' and state ~= 'SCHEDULED' and state ~= 'ACTIVE' then return {'conflict', state} end
local version = commit(task, { state = 'CANCELLED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = false }, 'transition', REASON)
if state == 'ACTIVE' then redis.call('PUBLISH', CANCEL_CHANNEL, task.id) end
return {'ok', version}
`,
  decode: decodeChange,
});

/**
 * reopen: an operator sends a DLQ or CANCELLED task back to work (PENDING). The caller then
 * queues it on the retry queue. Leaving the DLQ and the state change are one step.
 * `resetRetryCount` is '1' to start the retry count over.
 */
const reopen = defineTaskScript({
  keys: [],
  args: ['resetRetryCount', 'reason'],
  body: `
local task = read_task()
if not task then return {'missing'} end
if task.state ~= 'DLQ' and task.state ~= 'CANCELLED' then return {'conflict', task.state} end
local changes = { state = 'PENDING', progress = 0, dlqClass = false, nextAttemptAt = false,
  reopens = tonumber(task.reopens or '0') + 1 }
if RESET_RETRY_COUNT == '1' then changes.retryCount = 0 end
return {'ok', commit(task, changes, 'transition', REASON)}
`,
  decode: decodeChange,
});

/**
 * delete: removes the task everywhere (record, events, indexes, idempotency entry). A worker
 * still running it is told to abort, and its later writes find nothing and change nothing.
 * Subscribers get a deletion notice instead of a change.
 */
const remove = defineTaskScript({
  keys: ['ids'],
  optionalKeys: ['idempotencyEntry'],
  args: ['cancelChannel'],
  body: `
local task = read_task()
if not task then return {'missing'} end
redis.call('DEL', TASK_KEY, EVENTS_KEY)
redis.call('ZREM', ALL_KEY, task.id)
redis.call('ZREM', INDEX[task.state], task.id)
redis.call('ZREM', TENANT_ALL_KEY, task.id)
redis.call('ZREM', TENANT_INDEX[task.state], task.id)
if task.dlqClass then redis.call('ZREM', DLQ_INDEX[task.dlqClass], task.id) end
redis.call('ZREM', IDS_KEY, task.id)
redis.call('ZREM', FINISHED_KEY, task.id)
if IDEMPOTENCY_ENTRY_KEY then
  local value = redis.call('GET', IDEMPOTENCY_ENTRY_KEY)
  if value and string.sub(value, 1, #task.id + 1) == task.id .. ':' then redis.call('DEL', IDEMPOTENCY_ENTRY_KEY) end
end
if task.state == 'ACTIVE' then redis.call('PUBLISH', CANCEL_CHANNEL, task.id) end
count_flow(task.state, nil)
local notice = cjson.encode({ id = task.id, tenant = task.tenant, deleted = '1' })
redis.call('PUBLISH', TASKS_CHANNEL, notice)
return {'ok', task.state}
`,
  decode(reply): DeleteOutcome {
    const [status, state] = replyList(reply);
    return status === 'ok' ? { status: 'ok', state: state as TaskState } : { status: 'missing' };
  },
});

/** Every task script by name. Register with ioredis `defineCommand` (common/task-script-runner.ts). */
export const TASK_SCRIPTS = {
  taskCreate: create,
  taskClaim: claim,
  taskRenew: renew,
  taskRelease: release,
  taskProgress: progress,
  taskComplete: complete,
  taskFail: fail,
  taskDefer: defer,
  taskCancel: cancel,
  taskReopen: reopen,
  taskDelete: remove,
} as const;
export type TaskScripts = typeof TASK_SCRIPTS;
export type TaskScriptName = keyof TaskScripts;
