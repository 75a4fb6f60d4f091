/**
 * The claim: how a worker takes a task's lease (`claim_task`, shared by the `taskClaim` script
 * here and the dispatcher's pick-and-claim in dispatch.ts), and what a claim answers.
 */
import type { TaskType } from '../task.ts';
import { TransitionReason } from '../transition-reasons.ts';
import { defineTaskScript, replyList, type LuaFragment } from './kit/define.ts';
import { LINE_KEYS, LINE_TEMPLATES, LINES } from './dispatch-lines.ts';

export interface ClaimedTask {
  version: number;
  attempt: number;
  content: string;
  type: TaskType;
  tenant: string;
  retryCount: number;
  maxRetries: number;
  /** The W3C trace context its submit stored (`traceparent`), or null (docs/observability.md). */
  traceContext: string | null;
  /** How it waited for this attempt, from the record before the claim (tracing reads it). */
  waited: ClaimWait;
  /** Its model chain and place in it, raw (schema/src/model-chain.ts); null or absent: the configured chain from its start. */
  chain?: string | null;
}

export interface ClaimWait {
  /** When it joined its tenant's line (ms, Redis' clock), or null. */
  queuedAt: number | null;
  /** The reason the record gave for its wait (a WaitReason a deferral or a failure stored), or null. */
  reason: string | null;
  /** When the record last changed before the claim: when this wait began. */
  since: number | null;
  /** Its state before the claim (PENDING, SCHEDULED, or ACTIVE for a takeover). */
  fromState: string;
}

/** The wait fields of a claim reply (after the trace context). */
export function decodeClaimWait(values: readonly (string | undefined)[]): ClaimWait {
  const [queuedAt, reason, since, fromState] = values;
  const number = (value: string | undefined) => (value ? Number(value) : null);
  return { queuedAt: number(queuedAt), reason: reason || null, since: number(since), fromState: fromState ?? '' };
}

/**
 * The task of a `claimed` reply (`claim_task`'s: status, version, attempt, content, type, tenant,
 * retries, max retries, trace context, then the four wait fields), as the claim and the
 * dispatcher (whose reply goes on after these) both answer it.
 */
export function decodeClaimedTask(values: readonly (string | undefined)[]): Omit<ClaimedTask, 'chain'> {
  const [, version, attempt, content, type, tenant, retryCount, maxRetries, traceContext] = values;
  return {
    version: Number(version),
    attempt: Number(attempt),
    content: content!,
    type: type as TaskType,
    tenant: tenant!,
    retryCount: Number(retryCount),
    maxRetries: Number(maxRetries),
    traceContext: traceContext || null,
    waited: decodeClaimWait(values.slice(9, 13)),
  };
}

export type ClaimOutcome =
  | ({ status: 'claimed' } & ClaimedTask)
  | { status: 'busy'; leaseExpiresAt: number }
  | { status: 'early'; nextAttemptAt: number }
  | { status: 'exhausted' }
  | { status: 'unclaimable'; state: string }
  | { status: 'missing' };

/**
 * claim_task(task, extra): a worker takes a PENDING task, a SCHEDULED one whose retry is due,
 * or an ACTIVE one whose lease ran out (its holder stalled: that attempt is recorded as STALLED
 * and counts against the budget). The claim script and the dispatcher (dispatch.ts) share it.
 */
export const CLAIM: LuaFragment = {
  lua: `
-- Claims \`task\` under LEASE_TOKEN for LEASE_MS (extra fields go into the same commit, and
-- on_claim, when given, counts into it): a PENDING task, a SCHEDULED one whose retry is due, or
-- an ACTIVE one whose lease ran out. Returns the reply ClaimOutcome decodes.
local function claim_task(task, extra, on_claim)
  local now = now_ms()
  -- How the task waited for this attempt, as it was before the claim changes the record.
  local waited = { task.queuedAt or '', task.waitReason or '', task.updatedAt or '', task.state }
  if task.state == 'ACTIVE' then
    if tonumber(task.leaseExpiresAt or '0') > now then return {'busy', task.leaseExpiresAt} end
  elseif task.state == 'SCHEDULED' then
    -- A stray job (a lease check, a takeover) must not cut a retry delay short.
    if tonumber(task.nextAttemptAt or '0') > now then return {'early', task.nextAttemptAt} end
  elseif task.state ~= 'PENDING' then
    return {'unclaimable', task.state}
  end
  local attempt = task.attempt + 1
  -- A takeover after a stall costs a retry (not one after a hand-back at shutdown, released '1').
  local retry_count, errors = nil, nil
  if task.state == 'ACTIVE' and task.released ~= '1' then
    retry_count = tonumber(task.retryCount) + 1
    errors = with_error(task, cjson.encode({
      errorClass = 'STALLED', message = 'worker lost its lease', httpStatus = cjson.null,
      attempt = attempt - 1, at = now }))
    count('failed:STALLED')
    if retry_count > tonumber(task.maxRetries) then
      local exhausted = { state = 'DLQ', dlqClass = 'STALLED', leaseToken = false, leaseExpiresAt = false, retryCount = retry_count, errors = errors }
      if task.released then exhausted.released = false end
      if task.queued then exhausted.queued = '' end
      return {'exhausted', commit(task, exhausted, 'transition', 'STALLED')}
    end
  end
  -- One constructor: a table grown field by field is rehashed at every power of two.
  local changes = { state = 'ACTIVE', attempt = attempt, progress = '0', leaseToken = LEASE_TOKEN,
    leaseExpiresAt = now + LEASE_MS, workerId = ACTOR, nextAttemptAt = false, outputSeq = false,
    outputBytes = false, retryCount = retry_count, errors = errors }
  -- A hand-back counts only for the takeover that follows it.
  if task.released then changes.released = false end
  -- Out of its line (cleared by a write of '', which costs no HDEL), no longer waiting.
  if task.queued then changes.queued = '' end
  if task.waitReason then changes.waitReason = '' end
  for field, value in pairs(extra) do changes[field] = value end
  if on_claim then on_claim() end
  if not task.startedAt then
    changes.startedAt = now
    observe('wait', now - task.createdAt)
  end
  local reason = '${TransitionReason.CLAIMED}'
  if task.state == 'ACTIVE' then
    reason = task.released == '1' and '${TransitionReason.RESUMED_AFTER_SHUTDOWN}' or '${TransitionReason.RECLAIMED_AFTER_LEASE_EXPIRY}'
  end
  local version = commit(task, changes, 'transition', reason)
  return {'claimed', version, attempt, task.content, task.type, task.tenant, task.retryCount, task.maxRetries, task.trace or '',
    waited[1], waited[2], waited[3], waited[4]}
end
`,
};

/**
 * claim: a worker takes the task it names (see \`claim_task\`), out of its line when it waits in
 * one. Replies with what the handler needs, so the worker need not read the record back. The
 * runner claims through the dispatcher instead (dispatch.ts); this one serves tools and tests.
 */
export const claim = defineTaskScript({
  keys: [...LINE_KEYS],
  args: ['leaseToken', 'leaseMs'],
  templates: LINE_TEMPLATES,
  uses: [LINES, CLAIM],
  body: `
local task = read_task()
if not task then return {'missing'} end
local waiting = { id = task.id, tenant = task.tenant, queued = task.queued, cost = task.cost }
local counted = function()
  if waiting.queued and waiting.queued ~= '' then count('dispatch_dequeued:' .. task.tenant .. ':' .. (task.priority or 'NORMAL')) end
end
local reply = claim_task(task, {}, counted)
if reply[1] == 'claimed' or reply[1] == 'exhausted' then dequeue_task(waiting) end
return reply
`,
  decode(reply): ClaimOutcome {
    const values = replyList(reply);
    const [status, first] = values;
    switch (status) {
      case 'claimed':
        return { status, ...decodeClaimedTask(values) };
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
