/**
 * The worker's lifecycle scripts: everything the holder of a task's lease writes, each fenced by
 * its lease token (a write whose token is no longer current changes nothing and answers stale).
 * Scripts: `taskRenew`, `taskRelease`, `taskProgress`, `taskComplete` (with the
 * attempt's last output chunk, through output.ts's `emit_output`, and its last call's usage,
 * through usage.ts's `record_call`), `taskFail`, `taskDefer`.
 * The claim that takes the lease is in claim.ts.
 */
import { TransitionReason } from '../transition-reasons.ts';
import { defineTaskScript, replyList } from './kit/define.ts';
import { RUNNING_TEMPLATE } from './dispatch-lines.ts';
import { TenantField } from '../dispatch.ts';
import { EMIT_OUTPUT, outputChannel } from './output.ts';
import { BUDGET } from './budgets.ts';
import { RECORD_CALL, USAGE_ARGS, USAGE_KEYS, USAGE_TOKEN_KEYS } from './usage.ts';

/** A worker's fenced write: done, or refused because the lease is no longer held. */
export type WriteOutcome = { status: 'ok'; version: number; nextAttemptAt: number | null } | { status: 'stale'; state: string };

export function decodeWrite(reply: unknown): WriteOutcome {
  const [status, first, second] = replyList(reply);
  return status === 'ok'
    ? { status: 'ok', version: Number(first), nextAttemptAt: second ? Number(second) : null }
    : { status: 'stale', state: first ?? 'UNKNOWN' };
}

/** An operator's change: done, refused in this state, or no such task. */
const decodeHeld = (reply: unknown): boolean => reply === 1;
/** A renewal: the lease is held (and, for a capped tenant's task, its slot), or lost. */
export type RenewOutcome = { held: true; capped: boolean } | { held: false };

/**
 * renew: extends the lease of the worker that holds it. No version bump, no event. A capped
 * tenant's attempt (`capped`) keeps its slot in step (`RedisKeys.dispatchRunning`); one whose
 * lease ran out while another attempt took the tenant's last slot has lost it, and stops.
 * Replies 1 (held), 2 (held, and its tenant is capped: release the slot when done) or 0.
 */
export const renew = defineTaskScript({
  states: [],
  keys: ['dispatchState'],
  args: ['leaseToken', 'leaseMs'],
  templates: [RUNNING_TEMPLATE],
  body: `
local task = read_task()
if not task or not holds_lease(task, LEASE_TOKEN) then return 0 end
local now = now_ms()
local expires = now + tonumber(LEASE_MS)
if task.capped == '1' then
  local running = key_of(RUNNING_TEMPLATE, task.tenant)
  if tonumber(task.leaseExpiresAt or '0') <= now then
    local cap = tonumber(redis.call('HGET', DISPATCH_STATE_KEY, task.tenant .. '\\t${TenantField.CAP}') or '0')
    if cap > 0 and redis.call('ZCOUNT', running, '(' .. now, '+inf') >= cap then return 0 end
  end
  redis.call('ZADD', running, expires, task.id .. ':' .. task.attempt)
end
redis.call('HSET', TASK_KEY, 'leaseExpiresAt', str(expires))
return task.capped == '1' and 2 or 1
`,
  decode: (reply): RenewOutcome => (reply === 1 || reply === 2 ? { held: true, capped: reply === 2 } : { held: false }),
});

/**
 * release: the lease holder hands the task back because it is shutting down: the lease ends
 * now and the next claim takes the task over without counting a stall. No version bump.
 * True when it still held the lease.
 */
export const release = defineTaskScript({
  states: [],
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
export const progress = defineTaskScript({
  states: [],
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
 *
 * It may carry the usage of the attempt's last provider call (usage.ts USAGE_ARGS; `attempt` ''
 * when it carries none), recorded as taskRecordUsage records it (RECORD_CALL), in the same step:
 * its sums join the completion's write of the record. The call was billed, so a stale completion
 * records it too, though it changes nothing else. Sent again (a lost reply), it records the call
 * once: a call written ahead is taken off the pending list once, and one that was not carries a
 * once key. The token keys are always passed; `tokenCapacity` '' says there is no token limit.
 */
export const complete = defineTaskScript({
  states: ['ACTIVE', 'COMPLETED'],
  keys: [...USAGE_KEYS, ...USAGE_TOKEN_KEYS],
  optionalKeys: ['jobActive', 'jobStalling', 'jobs'],
  args: ['leaseToken', 'result', 'usage', 'jobId', 'finalText', 'finalReset', 'streamedBytes', ...USAGE_ARGS],
  channels: [outputChannel],
  uses: [EMIT_OUTPUT, BUDGET, RECORD_CALL],
  body: `
if JOBS_KEY then
  redis.call('LREM', JOB_ACTIVE_KEY, 0, JOB_ID)
  redis.call('SREM', JOB_STALLING_KEY, JOB_ID)
  redis.call('HDEL', JOBS_KEY, JOB_ID)
end
local task = read_task()
-- The call's usage first: it counts whatever the lease says (nil: none carried, or recorded already).
local recorded = ATTEMPT ~= '' and record_call(task) or nil
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then
  if recorded then write_fields(recorded) end
  return stale(task.state)
end
local now = now_ms()
local changes = { state = 'COMPLETED', result = RESULT, progress = '1', completedAt = now,
  leaseToken = false, leaseExpiresAt = false }
-- The call's sums go with the transition's one write of the record.
if recorded then
  for field, value in pairs(recorded) do changes[field] = value end
end
observe('duration', now - (task.startedAt or now))
count('completed:' .. task.type)
if USAGE ~= '' then changes.usage = USAGE end
-- The attempt's last chunk, in the same step: its text put together is the result. One that
-- starts the attempt's text names the model of the attempt's last call (recordUsage's usageAttempt).
local seq = (task.outputSeq or '0') + 1
local usage_attempt = changes.usageAttempt or task.usageAttempt
local model = usage_attempt == task.attempt and (changes.usageModel or task.usageModel) or ''
if tonumber(task.outputBytes or '0') ~= tonumber(STREAMED_BYTES) then
  -- The stream holds other than what the worker knows it wrote (an append applied after the
  -- worker gave up on it): the last chunk replaces it all with the result.
  emit_output(task.id, task.attempt, seq, true, true, RESULT, model)
else
  emit_output(task.id, task.attempt, seq, seq == 1 or FINAL_RESET == '1', true, FINAL_TEXT, model)
end
return {'ok', commit(task, changes, 'transition', '${TransitionReason.COMPLETED}')}
`,
  decode: decodeWrite,
});

/**
 * fail: the lease holder records a failed attempt; the task waits for a retry (SCHEDULED,
 * counting one retry) or goes to the dead letter queue (DLQ). The caller decides which.
 * `error` is the error's JSON; `retryDelayMs` is '' for none. The error's time and the retry
 * time are taken from Redis' clock, like every other time in the record.
 */
export const fail = defineTaskScript({
  states: ['ACTIVE', 'SCHEDULED', 'DLQ'],
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
  changes.waitReason = 'RETRY_DELAY'
  changes.retryCount = tonumber(task.retryCount) + 1
  next_attempt_at = now + tonumber(RETRY_DELAY_MS)
  changes.nextAttemptAt = next_attempt_at
  failure.nextAttemptAt = next_attempt_at
else
  changes.dlqClass = failure.errorClass
end
changes.errors = with_error(task, cjson.encode(failure))
-- The attempt a model switch sent here failed otherwise: the next one is no switch, so its calls
-- name no switch reason (schema/src/model-chain.ts); the task keeps its place in the chain.
if task.chain then
  local ok, chain = pcall(cjson.decode, task.chain)
  if ok and type(chain) == 'table' and chain.switchReason ~= nil and chain.switchReason ~= cjson.null then
    chain.switchReason = cjson.null
    changes.chain = cjson.encode(chain)
  end
end
return {'ok', commit(task, changes, 'transition', REASON), str(next_attempt_at)}
`,
  decode: decodeWrite,
});

/**
 * defer: the lease holder puts the task back to wait without calling the provider (its
 * circuit breaker is open, or the shared rate limit says wait): SCHEDULED again, with no error
 * and no retry counted. With `held` (the index of a hold that can end early, schema/src/holds.ts)
 * the task is indexed there until its deferral ends, and entries whose deferral has ended go.
 */
export const defer = defineTaskScript({
  states: ['ACTIVE', 'SCHEDULED'],
  keys: [],
  optionalKeys: ['held'],
  args: ['leaseToken', 'delayMs', 'reason', 'waitReason'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local next_attempt_at = now_ms() + tonumber(DELAY_MS)
local version = commit(task, { state = 'SCHEDULED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = next_attempt_at, waitReason = WAIT_REASON }, 'transition', REASON)
if HELD_KEY then
  redis.call('ZREMRANGEBYSCORE', HELD_KEY, '-inf', now_ms())
  redis.call('ZADD', HELD_KEY, next_attempt_at, task.id)
end
return {'ok', version, str(next_attempt_at)}
`,
  decode: decodeWrite,
});
