/**
 * The worker's lifecycle scripts: everything the holder of a task's lease writes, each fenced by
 * its lease token (a write whose token is no longer current changes nothing and answers stale).
 * Scripts: `taskClaim`, `taskRenew`, `taskRelease`, `taskProgress`, `taskComplete` (with the
 * attempt's last output chunk, through output.ts's `emit_output`), `taskFail`, `taskDefer`.
 */
import type { TaskType } from '../task.ts';
import { TransitionReason } from '../transition-reasons.ts';
import { defineTaskScript, replyList } from './kit.ts';
import { EMIT_OUTPUT, outputChannel } from './output.ts';

/** A worker's fenced write: done, or refused because the lease is no longer held. */
export type WriteOutcome = { status: 'ok'; version: number; nextAttemptAt: number | null } | { status: 'stale'; state: string };

function decodeWrite(reply: unknown): WriteOutcome {
  const [status, first, second] = replyList(reply);
  return status === 'ok'
    ? { status: 'ok', version: Number(first), nextAttemptAt: second ? Number(second) : null }
    : { status: 'stale', state: first ?? 'UNKNOWN' };
}

/** An operator's change: done, refused in this state, or no such task. */
const decodeHeld = (reply: unknown): boolean => reply === 1;
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
/**
 * claim: a worker takes a PENDING task, a SCHEDULED one whose retry is due, or an ACTIVE one
 * whose lease ran out (its holder stalled: that attempt is recorded as STALLED and counts
 * against the budget). Replies with what the handler needs, so the worker need not read the
 * record back.
 */
export const claim = defineTaskScript({
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
export const renew = defineTaskScript({
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
export const release = defineTaskScript({
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
export const complete = defineTaskScript({
  keys: [],
  optionalKeys: ['jobActive', 'jobStalling', 'jobs'],
  args: ['leaseToken', 'result', 'usage', 'jobId', 'finalText', 'finalReset', 'streamedBytes'],
  channels: [outputChannel],
  uses: [EMIT_OUTPUT],
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
  emit_output(task.id, task.attempt, seq, true, true, RESULT)
else
  emit_output(task.id, task.attempt, seq, seq == 1 or FINAL_RESET == '1', true, FINAL_TEXT)
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
 * and no retry counted. With `held` (the index of a hold that can end early, schema/src/holds.ts)
 * the task is indexed there until its deferral ends, and entries whose deferral has ended go.
 */
export const defer = defineTaskScript({
  keys: [],
  optionalKeys: ['held'],
  args: ['leaseToken', 'delayMs', 'reason'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local next_attempt_at = now_ms() + tonumber(DELAY_MS)
local version = commit(task, { state = 'SCHEDULED', leaseToken = false, leaseExpiresAt = false,
  nextAttemptAt = next_attempt_at }, 'transition', REASON)
if HELD_KEY then
  redis.call('ZREMRANGEBYSCORE', HELD_KEY, '-inf', now_ms())
  redis.call('ZADD', HELD_KEY, next_attempt_at, task.id)
end
return {'ok', version, str(next_attempt_at)}
`,
  decode: decodeWrite,
});
