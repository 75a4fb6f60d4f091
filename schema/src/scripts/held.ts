/**
 * The release of a held task (schema/src/holds.ts): `taskReleaseHold`. A task deferred for a
 * hold that has ended early (an operator reset the breakers, a rate-limit hold was lifted)
 * becomes due now, and its job is on the retry queue's waiting list in the same step, so a
 * worker takes it within a pull instead of at the end of its deferral.
 */
import { defineTaskScript, replyList } from './kit/define.ts';

/** Released (due now, its job waiting), or left alone: it was not held by that deferral any more, or no such task. */
export type ReleaseOutcome = { status: 'released'; version: number } | { status: 'unheld'; state: string } | { status: 'missing' };

/**
 * releaseHold: fenced by the deferral it releases (still SCHEDULED, at attempt `attempt`, due at
 * `due`, and not due yet): sets `nextAttemptAt` to now and records why (`reason`). Its delayed
 * job (`retryJobId` in the retry queue's `delayed` set) is raised as bee-queue raises one (off
 * `delayed`, onto `waiting`). A job not in `delayed` and not stored is still being queued by the
 * deferring worker (or lost): it is queued now under its own id (`job`, encoded as bee-queue
 * stores it), so the late save finds the id taken and adds nothing. One stored but not delayed
 * is already on its way, and may meet the task before this release: the task then gets a job of
 * its own, `releaseJobId`. Replies {'released', version} | {'unheld', state} | {'missing'}.
 */
export const releaseHold = defineTaskScript({
  states: [],
  keys: ['jobs', 'waiting', 'delayed'],
  args: ['attempt', 'due', 'retryJobId', 'releaseJobId', 'job', 'reason'],
  body: `
local task = read_task()
if not task then return {'missing'} end
local now = now_ms()
local due = tonumber(task.nextAttemptAt or '0')
if task.state ~= 'SCHEDULED' or task.attempt ~= ATTEMPT or due ~= tonumber(DUE) or due <= now then
  return {'unheld', task.state}
end
local version = commit(task, { nextAttemptAt = now }, 'transition', REASON)
local raised = redis.call('ZREM', DELAYED_KEY, RETRY_JOB_ID) == 1
if raised and redis.call('HEXISTS', JOBS_KEY, RETRY_JOB_ID) == 1 then
  redis.call('LPUSH', WAITING_KEY, RETRY_JOB_ID)
elseif redis.call('HSETNX', JOBS_KEY, RETRY_JOB_ID, JOB) == 1 then
  redis.call('LPUSH', WAITING_KEY, RETRY_JOB_ID)
elseif redis.call('HSETNX', JOBS_KEY, RELEASE_JOB_ID, JOB) == 1 then
  redis.call('LPUSH', WAITING_KEY, RELEASE_JOB_ID)
end
return {'released', version}
`,
  decode(reply): ReleaseOutcome {
    const [status, first] = replyList(reply);
    if (status === 'released') return { status, version: Number(first) };
    if (status === 'unheld') return { status, state: first ?? 'UNKNOWN' };
    return { status: 'missing' };
  },
});
