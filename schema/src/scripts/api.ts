/**
 * The API's scripts: what an operator or a client does to a task. Scripts: `taskCreate` (submit,
 * with its job and its budget check), `taskCancel`, `taskReopen` (retry from the DLQ or
 * CANCELLED), `taskDelete` (also the retention sweep's). Each is one atomic step through the
 * prelude's `commit()` (or, for delete, its own removal from every index).
 *
 * The tasks channel carries each change (the prelude's `emit`) and, from delete, a deletion
 * notice; cancel and delete of an ACTIVE task publish its id on the cancel channel, so its worker
 * aborts at once (the payloads: schema/src/channels.ts).
 */
import { Channels } from '../channels.ts';
import type { TaskState } from '../task.ts';
import { TransitionReason } from '../transition-reasons.ts';
import { BUDGET, BUDGET_KEYS, type BudgetPeriod } from './budgets.ts';
import { defineTaskScript, replyList } from './kit/define.ts';
import { LINE_KEYS, LINE_TEMPLATES, LINES } from './dispatch-lines.ts';

/** An operator's change: done, refused in this state, or no such task. */
export type ChangeOutcome = { status: 'ok'; version: number } | { status: 'conflict'; state: TaskState } | { status: 'missing' };

function decodeChange(reply: unknown): ChangeOutcome {
  const [status, first] = replyList(reply);
  if (status === 'ok') return { status: 'ok', version: Number(first) };
  if (status === 'conflict') return { status: 'conflict', state: first as TaskState };
  return { status: 'missing' };
}

export type CreateReply =
  /** `fields`: the hash the script stored, so the caller need not read it back. */
  | { status: 'created'; fields: Record<string, string> }
  | { status: 'existing'; taskId: string }
  | { status: 'conflict'; taskId: string }
  /** The tenant's spend reached this budget: nothing was stored. */
  | { status: 'budget'; period: BudgetPeriod };

export type DeleteOutcome = { status: 'ok'; state: TaskState } | { status: 'missing' };

/** The fields every submitted task has, and their Lua values in taskCreate: its record and its HSET are made from this one list. */
const SUBMITTED_FIELDS: readonly (readonly [field: string, lua: string])[] = [
  ['id', 'ID'], ['tenant', 'TENANT'], ['apiKeyId', 'API_KEY_ID'], ['type', 'TYPE'], ['state', "'PENDING'"], ['version', "'1'"],
  ['content', 'CONTENT'], ['progress', "'0'"], ['retryCount', "'0'"], ['maxRetries', 'MAX_RETRIES'], ['attempt', "'0'"],
  ['errors', "'[]'"], ['createdAt', 'at'], ['updatedAt', 'at'], ['order', 'order'], ['priority', 'PRIORITY'], ['cost', 'COST'],
];
/** The fields a submit may add to them (set in taskCreate's body). */
const SUBMITTED_OPTIONAL_FIELDS = ['idempotencyKey', 'trace', 'chain', 'queued', 'queuedAt'] as const;

/**
 * create: a new PENDING task, queued, or the task an idempotency key already names.
 * The job goes on the queue in the same step as the record (what bee-queue's addJob does with a
 * given id: HSET jobs, LPUSH waiting), so a submit is one round trip and no task is stored
 * without its job. The job id is the new task's id, which no job can have yet. `job` is the
 * task's job as bee-queue stores it (`encodeBeeQueueJob`); '' stores the task unqueued. `chain`
 * is the task's own model chain (schema/src/model-chain.ts `encodeTaskChain`), '' for the configured one.
 * An idempotency key used again with another type, content, chain or priority is a conflict.
 * Replies {'created', version, field, value, ...} | {'existing', id} | {'conflict', id}.
 */
export const create = defineTaskScript({
  states: ['PENDING'],
  keys: ['sequence', 'ids', 'typeIndex', 'tenantTypeIndex', 'jobs', 'waiting', ...BUDGET_KEYS, ...LINE_KEYS],
  optionalKeys: ['idempotencyEntry'],
  args: ['id', 'apiKeyId', 'type', 'content', 'maxRetries', 'idempotencyKey', 'idempotencyTtlSeconds', 'job', 'priority', 'cost', 'priorityOffsetMs', 'trace', 'chain'],
  templates: LINE_TEMPLATES,
  uses: [BUDGET, LINES],
  body: `
-- What a resend must repeat: its type, content, own chain and priority (a resend naming other
-- models or another priority is another request, as in Stripe's idempotency keys). Without a
-- chain and at NORMAL priority, the fingerprint of before. Only a submit with an idempotency key
-- needs it (a SHA-1 of the whole content).
local fingerprint = IDEMPOTENCY_ENTRY_KEY and redis.sha1hex(TYPE .. '\\0' .. CONTENT .. (CHAIN ~= '' and ('\\0' .. CHAIN) or '')
  .. (PRIORITY ~= 'NORMAL' and ('\\0priority:' .. PRIORITY) or ''))
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
local at = str(now)
local task = { ${SUBMITTED_FIELDS.map(([field, value]) => `${field} = ${value}`).join(', ')} }
if IDEMPOTENCY_ENTRY_KEY then task.idempotencyKey = IDEMPOTENCY_KEY end
-- The submit's trace context (a W3C traceparent), handed to each attempt by its claim.
if TRACE ~= '' then task.trace = TRACE end
-- Its own model chain (schema/src/model-chain.ts), when the submit named one.
if CHAIN ~= '' then task.chain = CHAIN end
-- Queued: in its tenant's new line at once, so it competes from its submit on (docs/dispatch.md).
if JOB ~= '' then task.queued, task.queuedAt = 'new', at end
-- The HSET's field-value list: one constructor of the fields every task has, then those it may
-- have (a pairs() walk of the record cost a twentieth of a submit).
local flat = { ${SUBMITTED_FIELDS.map(([field]) => `'${field}', task.${field}`).join(', ')} }
for _, field in ipairs({ ${SUBMITTED_OPTIONAL_FIELDS.map((field) => `'${field}'`).join(', ')} }) do
  if task[field] then flat[#flat + 1] = field; flat[#flat + 1] = task[field] end
end
redis.call('HSET', TASK_KEY, unpack(flat))
redis.call('ZADD', ALL_KEY, order, task.id)
redis.call('ZADD', INDEX.PENDING, order, task.id)
redis.call('ZADD', TENANT_ALL_KEY, order, task.id)
redis.call('ZADD', TENANT_INDEX.PENDING, order, task.id)
redis.call('ZADD', TYPE_INDEX_KEY, order, task.id)
redis.call('ZADD', TENANT_TYPE_INDEX_KEY, order, task.id)
count('submitted:' .. task.type)
count('entered:PENDING')
redis.call('ZADD', IDS_KEY, '0', task.id)
if IDEMPOTENCY_ENTRY_KEY then
  redis.call('SET', IDEMPOTENCY_ENTRY_KEY, task.id .. ':' .. fingerprint, 'EX', tonumber(IDEMPOTENCY_TTL_SECONDS))
end
if JOB ~= '' then
  redis.call('HSET', JOBS_KEY, task.id, JOB)
  redis.call('LPUSH', WAITING_KEY, task.id)
  enqueue_task(TENANT, 'new', COST, task.id, priority_order(order, PRIORITY, PRIORITY_OFFSET_MS))
  count('dispatch_queued:' .. TENANT .. ':' .. PRIORITY)
end
count_flow(nil, 'PENDING')
flush_stats()
emit(task, 'transition', '${TransitionReason.SUBMITTED}')
return {'created', 1, unpack(flat)}
`,
  decode(reply): CreateReply {
    const [status, ...values] = replyList(reply);
    if (status === 'budget') return { status, period: values[0] as BudgetPeriod };
    if (status !== 'created') return { status: status === 'existing' ? 'existing' : 'conflict', taskId: values[0]! };
    const fields: Record<string, string> = {};
    for (let i = 1; i + 1 < values.length; i += 2) fields[values[i]!] = values[i + 1]!;
    return { status: 'created', fields };
  },
});

/**
 * cancel: an operator stops a PENDING, SCHEDULED or ACTIVE task. An ACTIVE task's lease is
 * dropped, so its worker's result is rejected as stale, and its id is published on the
 * cancel channel so the worker aborts the provider call at once. Whichever of cancel and
 * complete runs first wins; the other changes nothing.
 */
export const cancel = defineTaskScript({
  keys: [...LINE_KEYS],
  args: ['reason'],
  channels: [Channels.cancel],
  templates: LINE_TEMPLATES,
  uses: [LINES],
  body: `
local task = read_task()
if not task then return {'missing'} end
local state = task.state
if state ~= 'PENDING' and state ~= 'SCHEDULED' and state ~= 'ACTIVE' then return {'conflict', state} end
local changes = { state = 'CANCELLED', leaseToken = false, leaseExpiresAt = false, nextAttemptAt = false }
if task.queued and task.queued ~= '' then
  dequeue_task(task)
  count('dispatch_dequeued:' .. task.tenant .. ':' .. (task.priority or 'NORMAL'))
  changes.queued = ''
end
if task.waitReason then changes.waitReason = '' end
local version = commit(task, changes, 'transition', REASON)
if state == 'ACTIVE' then redis.call('PUBLISH', CANCEL_CHANNEL, task.id) end
return {'ok', version}
`,
  decode: decodeChange,
});

/**
 * reopen: an operator sends a DLQ or CANCELLED task back to work (PENDING). The caller then
 * queues it on the retry queue. Leaving the DLQ and the state change are one step.
 * `resetRetryCount` is '1' to start the retry count over. Its model chain starts over from its
 * first model (schema/src/model-chain.ts).
 */
export const reopen = defineTaskScript({
  keys: [...LINE_KEYS],
  args: ['resetRetryCount', 'reason', 'priorityOffsetMs'],
  templates: LINE_TEMPLATES,
  uses: [LINES],
  body: `
local task = read_task()
if not task then return {'missing'} end
if task.state ~= 'DLQ' and task.state ~= 'CANCELLED' then return {'conflict', task.state} end
local now = now_ms()
local changes = { state = 'PENDING', progress = 0, dlqClass = false, nextAttemptAt = false,
  reopens = tonumber(task.reopens or '0') + 1, queued = 'retry', queuedAt = now }
if RESET_RETRY_COUNT == '1' then changes.retryCount = 0 end
-- Its model chain starts over from its first model (a task's own chain stays its own; a field
-- that is not JSON goes, and the task runs the configured chain).
if task.chain then
  local ok, chain = pcall(cjson.decode, task.chain)
  if ok and type(chain) == 'table' then
    chain.index, chain.switchReason = 0, cjson.null
    changes.chain = cjson.encode(chain)
  else
    changes.chain = false
  end
end
-- Back in its tenant's retry line at once (its job on the retry queue is its ticket).
enqueue_task(task.tenant, 'retry', task.cost or '1', task.id, priority_order(now * 1000 + tonumber(task.order) % 1000, task.priority, PRIORITY_OFFSET_MS))
count('dispatch_queued:' .. task.tenant .. ':' .. (task.priority or 'NORMAL'))
return {'ok', commit(task, changes, 'transition', REASON)}
`,
  decode: decodeChange,
});

/**
 * delete: removes the task everywhere (record, events, indexes, idempotency entry). A worker
 * still running it is told to abort, and its later writes find nothing and change nothing.
 * Subscribers get a deletion notice instead of a change.
 */
export const remove = defineTaskScript({
  keys: ['ids', 'typeIndex', 'tenantTypeIndex', ...LINE_KEYS],
  optionalKeys: ['idempotencyEntry'],
  args: [],
  channels: [Channels.cancel],
  templates: LINE_TEMPLATES,
  uses: [LINES],
  body: `
local task = read_task()
if not task then return {'missing'} end
if task.queued and task.queued ~= '' then
  dequeue_task(task)
  count('dispatch_dequeued:' .. task.tenant .. ':' .. (task.priority or 'NORMAL'))
  flush_stats()
end
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
