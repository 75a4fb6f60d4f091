/**
 * The Lua scripts that are the only writers of a task record, each with its typed contract.
 * Each script checks the state (and, for a worker, its lease token) it expects, writes the
 * hash, bumps `version`, moves the task between state indexes, appends the change to the
 * task's capped event stream and publishes it: all in one atomic step, so readers never see
 * half a transition.
 *
 * Every key a script touches is built in redis-keys.ts and arrives through KEYS: the scripts
 * build no key names themselves (which also keeps them open to Redis Cluster). A script's
 * keys and arguments are declared by name below (`defineTaskScript`); the Lua sees them as
 * named locals (`TASK_KEY`, `INDEX[state]`, `LEASE_TOKEN`, ...) generated from the same
 * declaration the callers use, so positions cannot drift apart. Every script shares:
 *   keys: the task hash, its event stream, its output stream, the all-tasks index and its tenant slice, each
 *         state index and its tenant slice, the dead-letter index of each error class, the
 *         finished index, the stats hash and the flow counter of the caller's minute;
 *   args: the stream cap, the all-tasks channel, the actor (worker id or '') and the tenant.
 * A script that moves no index (the output append) takes only the record's shared keys (the
 * task hash, its output, the stats hash); the other shared names are nil in it.
 * The tenant names the slices passed in. A script that finds the task under another tenant
 * changes nothing and fails with `WRONGTENANT "<tenant>"`; the caller runs it again with that
 * tenant (common/task-script-runner.ts), so a caller that does not know it yet may pass ''.
 *
 * Times come from Redis' clock (TIME), so hosts with skewed clocks agree on leases and due
 * times; only the per-minute flow counter is picked by the caller's clock. A worker's write
 * needs its lease token to be current, not unexpired: a worker whose lease ran out may still
 * finish if nobody has taken the task over, and then its is the one result.
 */
import type { TaskState, TaskType } from './task.ts';
import { defineTaskScript, replyList } from './scripts/kit.ts';
import { TransitionReason } from './transition-reasons.ts';

export { FLOW_BUCKET_TTL_MS } from './scripts/prelude.ts';
export { taskScriptCall, type AnyTaskScript, type ScriptArgs, type ScriptKeys, type ScriptReply, type TaskScope, type TaskScriptCommon } from './scripts/kit.ts';

// --- replies -------------------------------------------------------------------------------

/** A worker's fenced write: done, or refused because the lease is no longer held. */
export type WriteOutcome = { status: 'ok'; version: number; nextAttemptAt: number | null } | { status: 'stale'; state: string };

function decodeWrite(reply: unknown): WriteOutcome {
  const [status, first, second] = replyList(reply);
  return status === 'ok'
    ? { status: 'ok', version: Number(first), nextAttemptAt: second ? Number(second) : null }
    : { status: 'stale', state: first ?? 'UNKNOWN' };
}

/** An operator's change: done, refused in this state, or no such task. */
export type ChangeOutcome = { status: 'ok'; version: number } | { status: 'conflict'; state: TaskState } | { status: 'missing' };

function decodeChange(reply: unknown): ChangeOutcome {
  const [status, first] = replyList(reply);
  if (status === 'ok') return { status: 'ok', version: Number(first) };
  if (status === 'conflict') return { status: 'conflict', state: first as TaskState };
  return { status: 'missing' };
}

const decodeHeld = (reply: unknown): boolean => reply === 1;

export type CreateReply =
  /** `fields`: the hash the script stored, so the caller need not read it back. */
  | { status: 'created'; fields: Record<string, string> }
  | { status: 'existing'; taskId: string }
  | { status: 'conflict'; taskId: string }
  /** The tenant's spend reached this budget: nothing was stored. */
  | { status: 'budget'; period: 'DAY' | 'MONTH' };

export interface ClaimedTask {
  version: number;
  attempt: number;
  content: string;
  type: TaskType;
  tenant: string;
  retryCount: number;
  maxRetries: number;
}

export type ClaimOutcome =
  | ({ status: 'claimed' } & ClaimedTask)
  | { status: 'busy'; leaseExpiresAt: number }
  | { status: 'early'; nextAttemptAt: number }
  | { status: 'exhausted' }
  | { status: 'unclaimable'; state: string }
  | { status: 'missing' };

/** An output append: written as the attempt's `seq`-th chunk, over the cap (nothing written), or stale. */
export type AppendOutcome =
  | { status: 'ok'; seq: number }
  | { status: 'too_large'; bytes: number }
  /** The stored output is not `expectedBytes` long: nothing was written; `bytes` is its length. */
  | { status: 'moved'; bytes: number }
  | { status: 'stale'; state: string };

/** A budget reservation: held, not needed (no budget), or refused (a budget was reached). */
export type ReserveOutcome = { status: 'held' | 'free' } | { status: 'over'; period: 'DAY' | 'MONTH' };

export type DeleteOutcome = { status: 'ok'; state: TaskState } | { status: 'missing' };

// --- the scripts ---------------------------------------------------------------------------

/** The keys a script that checks a tenant's budgets takes (`budget_reached`), all built by the caller. */
const BUDGET_KEYS = ['budgets', 'spentDay', 'spentMonth', 'reservations', 'reservationAmounts'] as const;

/**
 * create: a new PENDING task, queued, or the task an idempotency key already names.
 * The job goes on the queue in the same step as the record (what bee-queue's addJob does with a
 * given id: HSET jobs, LPUSH waiting), so a submit is one round trip and no task is stored
 * without its job. The job id is the new task's id, which no job can have yet. `job` is the
 * task's job as bee-queue stores it (`encodeBeeQueueJob`); '' stores the task unqueued.
 * Replies {'created', version, field, value, ...} | {'existing', id} | {'conflict', id}.
 */
const create = defineTaskScript({
  keys: ['sequence', 'ids', 'typeIndex', 'tenantTypeIndex', 'jobs', 'waiting', ...BUDGET_KEYS],
  optionalKeys: ['idempotencyEntry'],
  args: ['id', 'apiKeyId', 'type', 'content', 'maxRetries', 'idempotencyKey', 'idempotencyTtlSeconds', 'job'],
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
-- Over budget: nothing is stored (the resend above still answers with its task).
local over = budget_reached()
if over then return {'budget', over} end
local now = now_ms()
-- Unique, time-ordered score: creation ms with a 3-digit sequence (fits a double exactly).
local order = string.format('%d', now * 1000 + (redis.call('INCR', SEQUENCE_KEY) % 1000))
local task = {
  id = ID, tenant = TENANT, apiKeyId = API_KEY_ID, type = TYPE, state = 'PENDING', version = '1',
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
redis.call('ZADD', TYPE_INDEX_KEY, order, task.id)
redis.call('ZADD', TENANT_TYPE_INDEX_KEY, order, task.id)
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
emit(task, 'transition', '${TransitionReason.SUBMITTED}', now)
return {'created', 1, unpack(flat)}
`,
  decode(reply): CreateReply {
    const [status, ...values] = replyList(reply);
    if (status === 'budget') return { status, period: values[0] as 'DAY' | 'MONTH' };
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
changes.outputSeq = false
changes.outputBytes = false
if not task.startedAt then
  changes.startedAt = now
  observe('wait', now - tonumber(task.createdAt))
end
local reason = '${TransitionReason.CLAIMED}'
if task.state == 'ACTIVE' then
  reason = task.released == '1' and '${TransitionReason.RESUMED_AFTER_SHUTDOWN}' or '${TransitionReason.RECLAIMED_AFTER_LEASE_EXPIRY}'
end
local version = commit(task, changes, 'transition', reason)
return {'claimed', version, attempt, task.content, task.type, task.tenant, task.retryCount, task.maxRetries}
`,
  decode(reply): ClaimOutcome {
    const [status, first, second, content, type, tenant, retryCount, maxRetries] = replyList(reply);
    switch (status) {
      case 'claimed':
        return {
          status,
          version: Number(first),
          attempt: Number(second),
          content: content!,
          type: type as TaskType,
          tenant: tenant!,
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
 * ('' none). It also appends the attempt's final output chunk: `finalText`, what the result adds
 * to the text the attempt streamed, or with `finalReset` '1' the whole result (when it does not
 * continue what was streamed); the whole result too when the stream is not `streamedBytes` long. With the job's keys (its queue's `active`, `stalling` and `jobs`) and `jobId`, the same
 * script finishes the job that delivered the task, whatever the outcome (bee-queue's success
 * finish, with removeOnSuccess and no events: see common/bee-queue.ts), so the worker needs
 * no second round trip. A stale write changes nothing but the job.
 */
const complete = defineTaskScript({
  keys: [],
  optionalKeys: ['jobActive', 'jobStalling', 'jobs'],
  args: ['leaseToken', 'result', 'usage', 'jobId', 'finalText', 'finalReset', 'streamedBytes', 'outputChannel'],
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
-- The attempt's last chunk, in the same step: its text put together is the result.
local seq = tonumber(task.outputSeq or '0') + 1
if tonumber(task.outputBytes or '0') ~= tonumber(STREAMED_BYTES) then
  -- The stream holds other than what the worker knows it wrote (an append applied after the
  -- worker gave up on it): the last chunk replaces it all with the result.
  emit_output(task.id, task.attempt, seq, 'rf', RESULT)
else
  emit_output(task.id, task.attempt, seq, (seq == 1 or FINAL_RESET == '1') and 'rf' or 'f', FINAL_TEXT)
end
return {'ok', commit(task, changes, 'transition', '${TransitionReason.COMPLETED}')}
`,
  decode: decodeWrite,
});

/**
 * appendOutput: the lease holder appends text to the attempt's output (see task-output.ts),
 * under a cap of `maxBytes` per attempt. No version bump and no task event: chunks have their
 * own stream and channel. Reads only the fields it needs (the record can hold 64 KiB of content).
 */
const appendOutput = defineTaskScript({
  shared: 'record',
  keys: [],
  args: ['leaseToken', 'text', 'expectedBytes', 'maxBytes', 'outputChannel'],
  body: `
local f = redis.call('HMGET', TASK_KEY, 'tenant', 'state', 'leaseToken', 'attempt', 'outputSeq', 'outputBytes', 'id')
if not f[1] then return stale('MISSING') end
check_tenant(f[1])
if f[2] ~= 'ACTIVE' or f[3] ~= LEASE_TOKEN then return stale(f[2]) end
local before = tonumber(f[6] or '0')
-- Appends only after what the writer knows it wrote: a resent append (its reply lost in a Redis
-- restart) or one that ran after the writer gave up on it changes nothing the second time.
if before ~= tonumber(EXPECTED_BYTES) then return {'moved', str(before)} end
local bytes = before + #TEXT
if bytes > tonumber(MAX_BYTES) then return {'too_large', str(before)} end
local seq = tonumber(f[5] or '0') + 1
redis.call('HSET', TASK_KEY, 'outputSeq', seq, 'outputBytes', bytes)
emit_output(f[7], f[4], seq, seq == 1 and 'r' or '-', TEXT)
flush_stats()
return {'ok', str(seq)}
`,
  decode(reply): AppendOutcome {
    const [status, first] = replyList(reply);
    if (status === 'ok') return { status, seq: Number(first) };
    if (status === 'too_large' || status === 'moved') return { status, bytes: Number(first) };
    return { status: 'stale', state: first ?? 'UNKNOWN' };
  },
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
  keys: ['ids', 'typeIndex', 'tenantTypeIndex'],
  optionalKeys: ['idempotencyEntry'],
  args: ['cancelChannel'],
  body: `
local task = read_task()
if not task then return {'missing'} end
redis.call('DEL', TASK_KEY, EVENTS_KEY, OUTPUT_KEY)
redis.call('ZREM', ALL_KEY, task.id)
redis.call('ZREM', INDEX[task.state], task.id)
redis.call('ZREM', TENANT_ALL_KEY, task.id)
redis.call('ZREM', TENANT_INDEX[task.state], task.id)
if task.dlqClass then redis.call('ZREM', DLQ_INDEX[task.dlqClass], task.id) end
redis.call('ZREM', IDS_KEY, task.id)
redis.call('ZREM', TYPE_INDEX_KEY, task.id)
redis.call('ZREM', TENANT_TYPE_INDEX_KEY, task.id)
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

/**
 * recordUsage: one provider call's usage (schema/src/usage.ts), whatever became of the attempt:
 * it was billed, so a stale worker's call counts too, though it changes no task state. Appends
 * the ledger entry; adds to the task's sums (when the task still exists), the hour's counters by
 * tenant, API key and model, the all-time totals and the tenant's day and month spend; and
 * releases the call's budget reservation. A task's first recorded call counts it in `tasks`.
 * Replies 1, or 0 when a call registered as under way (`wasPending`) was recorded already.
 */
const recordUsage = defineTaskScript({
  shared: 'record',
  keys: ['ledger', 'hour', 'totals', 'pending', ...BUDGET_KEYS],
  args: ['taskId', 'attempt', 'model', 'generationId', 'promptTokens', 'completionTokens', 'cachedTokens', 'reasoningTokens', 'costNano', 'estimated', 'reservationId', 'wasPending', 'ledgerMax', 'retentionMs'],
  body: `
-- A call registered as under way is recorded by whoever takes it off that list first: its worker,
-- or a sweeper reconciling it after the worker died. The other records nothing.
if GENERATION_ID ~= '' and redis.call('HDEL', PENDING_KEY, GENERATION_ID) == 0 and WAS_PENDING == '1' then return 0 end
local f = redis.call('HMGET', TASK_KEY, 'tenant', 'apiKeyId', 'usageCalls')
if f[1] then check_tenant(f[1]) end
local api_key = f[2] or ''
local first = f[1] ~= false and tonumber(f[3] or '0') == 0
local prompt, completion = tonumber(PROMPT_TOKENS), tonumber(COMPLETION_TOKENS)
local cached, reasoning, cost = tonumber(CACHED_TOKENS), tonumber(REASONING_TOKENS), tonumber(COST_NANO)
if f[1] then
  redis.call('HINCRBY', TASK_KEY, 'usageCalls', 1)
  redis.call('HINCRBY', TASK_KEY, 'usagePromptTokens', prompt)
  redis.call('HINCRBY', TASK_KEY, 'usageCompletionTokens', completion)
  redis.call('HINCRBY', TASK_KEY, 'usageCachedTokens', cached)
  redis.call('HINCRBY', TASK_KEY, 'usageReasoningTokens', reasoning)
  redis.call('HINCRBY', TASK_KEY, 'usageCostNano', cost)
  redis.call('HSET', TASK_KEY, 'usageModel', MODEL)
  if ESTIMATED == '1' then redis.call('HSET', TASK_KEY, 'usageEstimated', '1') end
end
local now = now_ms()
redis.call('XADD', LEDGER_KEY, 'MAXLEN', '~', LEDGER_MAX, '*', 'at', str(now), 'tenant', TENANT,
  'apiKeyId', api_key, 'taskId', TASK_ID, 'attempt', ATTEMPT, 'model', MODEL, 'generationId', GENERATION_ID,
  'promptTokens', PROMPT_TOKENS, 'completionTokens', COMPLETION_TOKENS, 'cachedTokens', CACHED_TOKENS,
  'reasoningTokens', REASONING_TOKENS, 'costNano', COST_NANO, 'estimated', ESTIMATED)
local group = TENANT .. '\\t' .. api_key .. '\\t' .. MODEL .. '\\t'
if redis.call('HINCRBY', HOUR_KEY, group .. 'calls', 1) == 1 then redis.call('PEXPIRE', HOUR_KEY, tonumber(RETENTION_MS)) end
redis.call('HINCRBY', HOUR_KEY, group .. 'promptTokens', prompt)
redis.call('HINCRBY', HOUR_KEY, group .. 'completionTokens', completion)
redis.call('HINCRBY', HOUR_KEY, group .. 'costNano', cost)
if first then redis.call('HINCRBY', HOUR_KEY, group .. 'tasks', 1) end
local total = TENANT .. '\\t' .. MODEL .. '\\t'
redis.call('HINCRBY', TOTALS_KEY, total .. 'prompt', prompt)
redis.call('HINCRBY', TOTALS_KEY, total .. 'completion', completion)
redis.call('HINCRBY', TOTALS_KEY, total .. 'cached', cached)
redis.call('HINCRBY', TOTALS_KEY, total .. 'reasoning', reasoning)
redis.call('HINCRBY', TOTALS_KEY, total .. 'costNano', cost)
-- Spend is kept for every tenant, so a budget set mid-period knows what was spent already.
if redis.call('INCRBY', SPENT_DAY_KEY, cost) == cost then redis.call('PEXPIRE', SPENT_DAY_KEY, 2 * 86400000) end
if redis.call('INCRBY', SPENT_MONTH_KEY, cost) == cost then redis.call('PEXPIRE', SPENT_MONTH_KEY, 63 * 86400000) end
if RESERVATION_ID ~= '' then
  redis.call('ZREM', RESERVATIONS_KEY, RESERVATION_ID)
  redis.call('HDEL', RESERVATION_AMOUNTS_KEY, RESERVATION_ID)
end
return 1
`,
  decode: (reply) => reply === 1,
});

/**
 * budgetReserve: before a provider call, holds its estimated cost against the tenant's budgets,
 * or refuses when the spend plus what running calls hold has reached one. A tenant without
 * budgets holds nothing. The hold expires after `ttlMs` (a worker that dies mid-call), and
 * recordUsage (or budgetRelease, for a call that did not happen) ends it.
 */
const budgetReserve = defineTaskScript({
  shared: 'none',
  keys: [...BUDGET_KEYS],
  args: ['reservationId', 'amountNano', 'ttlMs'],
  body: `
local over = budget_reached()
if over then return {'over', over} end
local limits = redis.call('HMGET', BUDGETS_KEY, TENANT .. '\\tDAY', TENANT .. '\\tMONTH')
if not limits[1] and not limits[2] then return {'free'} end
redis.call('ZADD', RESERVATIONS_KEY, now_ms() + tonumber(TTL_MS), RESERVATION_ID)
redis.call('HSET', RESERVATION_AMOUNTS_KEY, RESERVATION_ID, AMOUNT_NANO)
return {'held'}
`,
  decode(reply): ReserveOutcome {
    const [status, period] = replyList(reply);
    return status === 'over' ? { status: 'over', period: period as 'DAY' | 'MONTH' } : { status: status === 'held' ? 'held' : 'free' };
  },
});

/** budgetRelease: ends a reservation whose call did not happen. */
const budgetRelease = defineTaskScript({
  shared: 'none',
  keys: ['reservations', 'reservationAmounts'],
  args: ['reservationId'],
  body: `
redis.call('ZREM', RESERVATIONS_KEY, RESERVATION_ID)
redis.call('HDEL', RESERVATION_AMOUNTS_KEY, RESERVATION_ID)
return 1
`,
  decode: (reply) => reply === 1,
});

/** Every task script by name. Register with ioredis `defineCommand` (common/task-script-runner.ts). */
export const TASK_SCRIPTS = {
  taskCreate: create,
  taskClaim: claim,
  taskRenew: renew,
  taskRelease: release,
  taskProgress: progress,
  taskComplete: complete,
  taskAppendOutput: appendOutput,
  taskFail: fail,
  taskDefer: defer,
  taskCancel: cancel,
  taskReopen: reopen,
  taskDelete: remove,
  taskRecordUsage: recordUsage,
  budgetReserve,
  budgetRelease,
} as const;
export type TaskScripts = typeof TASK_SCRIPTS;
export type TaskScriptName = keyof TaskScripts;
