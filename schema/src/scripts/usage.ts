/**
 * Usage: what provider calls cost, as the scripts count it and the server reads it, in one
 * place. Script: `taskRecordUsage`; the Lua fragment `RECORD_CALL` (`record_call`), which it and
 * `taskComplete` (lifecycle.ts: the attempt's last call, with its completion) share. Beside
 * them, the formats they write and others read: the hourly counters' and the all-time totals'
 * field names (the server's usage reads and /metrics parse them here), and the record of a
 * call under way (`RedisKeys.usagePending`, written by the worker, read by the sweeper, removed
 * by the scripts). No I/O here.
 */
import { z } from 'zod';
import { BUDGET, BUDGET_KEYS } from './budgets.ts';
import { DispatchField } from '../dispatch.ts';
import { USAGE_LOG_MAX_CALLS } from '../model-chain.ts';
import { defineTaskScript, type LuaFragment } from './kit/define.ts';

/** The counters of `RedisKeys.usageHour`, field `<tenant>\t<apiKeyId>\t<model>\t<metric>`. */
export const UsageHourMetric = {
  TASKS: 'tasks',
  CALLS: 'calls',
  PROMPT_TOKENS: 'promptTokens',
  COMPLETION_TOKENS: 'completionTokens',
  COST_NANO: 'costNano',
  /** Calls whose figures are an estimate, and their part of `costNano`. */
  ESTIMATED_CALLS: 'estimatedCalls',
  ESTIMATED_COST_NANO: 'estimatedCostNano',
} as const;
export type UsageHourMetric = (typeof UsageHourMetric)[keyof typeof UsageHourMetric];
const HOUR_METRICS: readonly string[] = Object.values(UsageHourMetric);

/** The counters of `RedisKeys.usageTotals`, field `<tenant>\t<model>\t<kind>` (costNano in nano-dollars). */
export const UsageTotalKind = {
  PROMPT: 'prompt',
  COMPLETION: 'completion',
  CACHED: 'cached',
  REASONING: 'reasoning',
  COST_NANO: 'costNano',
  /** The part of `costNano` that is estimated (calls the provider never reported). */
  ESTIMATED_COST_NANO: 'estimatedCostNano',
} as const;
export type UsageTotalKind = (typeof UsageTotalKind)[keyof typeof UsageTotalKind];
const TOTAL_KINDS: readonly string[] = Object.values(UsageTotalKind);

/** What a field of an hour's counters counts, or null when it is not one of them. */
export function parseUsageHourField(field: string): { tenant: string; apiKeyId: string; model: string; metric: UsageHourMetric } | null {
  const [tenant, apiKeyId, model, metric] = field.split('\t');
  if (model === undefined || metric === undefined || !HOUR_METRICS.includes(metric)) return null;
  return { tenant: tenant!, apiKeyId: apiKeyId!, model, metric: metric as UsageHourMetric };
}

/** What a field of the all-time totals counts, or null when it is not one of them. */
export function parseUsageTotalField(field: string): { tenant: string; model: string; kind: UsageTotalKind } | null {
  const [tenant, model, kind] = field.split('\t');
  if (model === undefined || kind === undefined || !TOTAL_KINDS.includes(kind)) return null;
  return { tenant: tenant!, model, kind: kind as UsageTotalKind };
}

const pendingCallSchema = z.object({
  taskId: z.string(),
  tenant: z.string(),
  attempt: z.number().int(),
  model: z.string(),
  /** When it was written (ms, the worker's clock): before the request left. */
  at: z.number(),
  reservationId: z.string().nullable(),
  /** The prompt's estimated tokens: what an estimate is priced at when the provider never says. */
  promptTokens: z.number(),
  /** The provider's id of the call, once its answer named it; null until then. */
  generationId: z.string().nullable().default(null),
});
/**
 * A provider call under way (`RedisKeys.usagePending`, field: our own call id), written before
 * its request leaves the worker.
 */
export type PendingCall = z.infer<typeof pendingCallSchema>;

/** The pending call's value in `RedisKeys.usagePending`: JSON. */
export const pendingCallCodec = {
  encode: (call: PendingCall): string => JSON.stringify(call),
  /**
   * The call, or null when the value is not one (not JSON, or another shape). A record written
   * before call ids existed is keyed by its generation id (`field`) and has none inside.
   */
  decode(json: string, field = ''): PendingCall | null {
    try {
      const value: unknown = JSON.parse(json);
      const parsed = pendingCallSchema.safeParse(value);
      if (!parsed.success) return null;
      const legacy = typeof value === 'object' && value !== null && !('generationId' in value) && field.startsWith('gen-');
      return legacy ? { ...parsed.data, generationId: field } : parsed.data;
    } catch {
      return null;
    }
  },
};

/**
 * Adds the generation id to a call under way, only while it is still pending: a call already
 * recorded (by its worker or a sweeper) is not written back.
 * KEYS[1] `RedisKeys.usagePending`   ARGV[1] the call id   ARGV[2] the record, generation id included.
 * Replies 1 when written, 0 when the call was no longer pending.
 */
export const NOTE_PENDING_GENERATION = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

const hour = (metric: UsageHourMetric) => `group .. '${metric}'`;
const total = (kind: UsageTotalKind) => `total .. '${kind}'`;

/** How many `onceKey`s of completions the task keeps (`usageOnce`): more than can race one retry. */
const USAGE_ONCE_KEEP = 4;

/**
 * The keys a script that records a call's usage (`RECORD_CALL`) takes, all built by the caller;
 * then, with a provider token limit, `USAGE_TOKEN_KEYS`.
 */
export const USAGE_KEYS = ['ledger', 'hour', 'totals', 'pending', ...BUDGET_KEYS] as const;
/** The dispatcher's state, whose token bucket gets back what the start reserved beyond what the call used (or gives more). */
export const USAGE_TOKEN_KEYS = ['dispatchState', 'ticketJobs', 'ticketWaiting'] as const;
/**
 * The arguments of one call's usage (`RECORD_CALL`). `callId` names a call written ahead as
 * under way (`generationId` an older one), `wasPending` says it was; `onceKey` ('' none) makes
 * the record of a call written ahead by no one happen once however often the script is sent
 * (see RECORD_CALL).
 */
export const USAGE_ARGS = ['taskId', 'attempt', 'model', 'chainIndex', 'switchReason', 'callId', 'generationId', 'promptTokens', 'completionTokens', 'cachedTokens', 'reasoningTokens', 'costNano', 'estimated', 'reservationId', 'wasPending', 'onceKey', 'ledgerMax', 'retentionMs', 'tokenCapacity', 'wakeJob'] as const;

/**
 * `record_call(task)`: records one provider call's usage (the arguments of USAGE_ARGS), for the
 * scripts that bind USAGE_KEYS and USAGE_TOKEN_KEYS (taskRecordUsage, and taskComplete for the
 * attempt's last call). `task` is the record's fields as read (nil when there is none); it needs
 * `tenant`, `apiKeyId`, `tokensHeld`, `usageOnce`, `usageLog` and the `usage*` sums. Appends the
 * ledger entry and adds to the hour's counters, the totals and the tenant's spend; ends the
 * call's reservation and corrects the provider token bucket. Writes nothing to the task itself:
 * returns the task's changes (field -> value; none without a task) for the caller to write with
 * its own write of the record, or nil when the call was recorded already and nothing was done.
 * Uses BUDGET's `add_spend` and `end_hold`.
 */
export const RECORD_CALL: LuaFragment = {
  lua: `
local function record_call(task)
  -- A call written ahead as under way is recorded by whoever takes it off that list first: its
  -- worker, or a sweeper reconciling it after the worker died. The other records nothing.
  local pending_id = CALL_ID ~= '' and CALL_ID or GENERATION_ID
  if pending_id ~= '' and redis.call('HDEL', PENDING_KEY, pending_id) == 0 and WAS_PENDING == '1' then return nil end
  -- A call nobody wrote ahead, sent with a once key (a completion's, which its worker resends when
  -- a reply is lost): recorded already when the task keeps the key.
  local once = task and task.usageOnce or ''
  if ONCE_KEY ~= '' and string.find(' ' .. once .. ' ', ' ' .. ONCE_KEY .. ' ', 1, true) then return nil end
  local api_key = task and task.apiKeyId or ''
  local first = task ~= nil and tonumber(task.usageCalls or '0') == 0
  local prompt, completion = tonumber(PROMPT_TOKENS), tonumber(COMPLETION_TOKENS)
  local cached, reasoning, cost = tonumber(CACHED_TOKENS), tonumber(REASONING_TOKENS), tonumber(COST_NANO)
  local now = now_ms()
  -- The provider token limit gives the start's hold back below; the task's hold ends with its write.
  local tokens_held = task and tonumber(task.tokensHeld or '0') or 0
  local returns_tokens = DISPATCH_STATE_KEY and task and TOKEN_CAPACITY ~= ''
  local set = {}
  if task then
    -- The task's own list of calls (schema/src/model-chain.ts parseUsageLog), one line each.
    local line = cjson.encode({ a = tonumber(ATTEMPT), m = MODEL, i = CHAIN_INDEX ~= '' and tonumber(CHAIN_INDEX) or cjson.null,
      s = SWITCH_REASON ~= '' and SWITCH_REASON or cjson.null, g = GENERATION_ID ~= '' and GENERATION_ID or cjson.null,
      p = prompt, c = completion, n = cost, e = ESTIMATED == '1' and 1 or 0, t = now })
    local log = task.usageLog and (task.usageLog .. '\\n' .. line) or line
    -- Bounded: it rides in every event of the task. One line is added, so one at most goes.
    local _, breaks = string.gsub(log, '\\n', '')
    if breaks >= ${USAGE_LOG_MAX_CALLS} then log = string.sub(log, string.find(log, '\\n', 1, true) + 1) end
    -- The sums are far below 2^53 (a task makes a bounded number of calls): exact as Lua numbers.
    set.usageCalls = str((tonumber(task.usageCalls) or 0) + 1)
    set.usagePromptTokens = str((tonumber(task.usagePromptTokens) or 0) + prompt)
    set.usageCompletionTokens = str((tonumber(task.usageCompletionTokens) or 0) + completion)
    set.usageCachedTokens = str((tonumber(task.usageCachedTokens) or 0) + cached)
    set.usageReasoningTokens = str((tonumber(task.usageReasoningTokens) or 0) + reasoning)
    set.usageCostNano = str((tonumber(task.usageCostNano) or 0) + cost)
    set.usageModel, set.usageAttempt, set.usageLog = MODEL, ATTEMPT, log
    if ESTIMATED == '1' then set.usageEstimated = '1' end
    if returns_tokens and tokens_held > 0 then set.tokensHeld = '0' end
    if ONCE_KEY ~= '' then
      -- The last few keys: enough for completions of other attempts landing between a send and its resend.
      local keys = {}
      for key in string.gmatch(once, '%S+') do keys[#keys + 1] = key end
      keys[#keys + 1] = ONCE_KEY
      set.usageOnce = table.concat(keys, ' ', math.max(1, #keys - ${USAGE_ONCE_KEEP - 1}))
    end
  end
  redis.call('XADD', LEDGER_KEY, 'MAXLEN', '~', LEDGER_MAX, '*', 'at', str(now), 'tenant', TENANT,
    'apiKeyId', api_key, 'taskId', TASK_ID, 'attempt', ATTEMPT, 'model', MODEL, 'chainIndex', CHAIN_INDEX, 'switchReason', SWITCH_REASON, 'callId', CALL_ID, 'generationId', GENERATION_ID,
    'promptTokens', PROMPT_TOKENS, 'completionTokens', COMPLETION_TOKENS, 'cachedTokens', CACHED_TOKENS,
    'reasoningTokens', REASONING_TOKENS, 'costNano', COST_NANO, 'estimated', ESTIMATED)
  local group = TENANT .. '\\t' .. api_key .. '\\t' .. MODEL .. '\\t'
  local hour_fields = { ${hour(UsageHourMetric.CALLS)}, ${hour(UsageHourMetric.PROMPT_TOKENS)}, ${hour(UsageHourMetric.COMPLETION_TOKENS)}, ${hour(UsageHourMetric.COST_NANO)} }
  local hour_amounts = { 1, prompt, completion, cost }
  if first then hour_fields[#hour_fields + 1] = ${hour(UsageHourMetric.TASKS)}; hour_amounts[#hour_amounts + 1] = 1 end
  if ESTIMATED == '1' then
    hour_fields[#hour_fields + 1] = ${hour(UsageHourMetric.ESTIMATED_CALLS)}; hour_amounts[#hour_amounts + 1] = 1
    hour_fields[#hour_fields + 1] = ${hour(UsageHourMetric.ESTIMATED_COST_NANO)}; hour_amounts[#hour_amounts + 1] = cost
  end
  -- The hour's counters expire: the expiry is set when a group's first call of the hour creates them.
  if not add_counts(HOUR_KEY, hour_fields, hour_amounts)[1] then redis.call('PEXPIRE', HOUR_KEY, tonumber(RETENTION_MS)) end
  local total = TENANT .. '\\t' .. MODEL .. '\\t'
  local total_fields = { ${total(UsageTotalKind.PROMPT)}, ${total(UsageTotalKind.COMPLETION)}, ${total(UsageTotalKind.CACHED)}, ${total(UsageTotalKind.REASONING)}, ${total(UsageTotalKind.COST_NANO)} }
  local total_amounts = { prompt, completion, cached, reasoning, cost }
  if ESTIMATED == '1' then total_fields[#total_fields + 1] = ${total(UsageTotalKind.ESTIMATED_COST_NANO)}; total_amounts[#total_amounts + 1] = cost end
  add_counts(TOTALS_KEY, total_fields, total_amounts)
  add_spend(cost)
  if RESERVATION_ID ~= '' then end_hold(RESERVATION_ID) end
  -- The provider token limit: the start took the task's estimate from the bucket; the first call
  -- recorded puts back the difference with what it used (a later one of the same attempt takes
  -- what it used), never filling the bucket past its capacity.
  if returns_tokens then
    local bucket = tonumber(redis.call('HGET', DISPATCH_STATE_KEY, '${DispatchField.TOKENS}') or TOKEN_CAPACITY)
    local left = math.min(tonumber(TOKEN_CAPACITY), bucket + tokens_held - (prompt + completion))
    redis.call('HSET', DISPATCH_STATE_KEY, '${DispatchField.TOKENS}', string.format('%.17g', left))
    if tokens_held > prompt + completion then
      -- Tokens came back: a head waiting for them looks again now, with a ticket parked for it.
      redis.call('HSET', DISPATCH_STATE_KEY, '${DispatchField.TOKENS_WAIT_UNTIL}', '')
      if tonumber(redis.call('HGET', DISPATCH_STATE_KEY, '${DispatchField.OWED}') or '0') > 0 then
        local job_id = 'wake:tokens:' .. (CALL_ID ~= '' and CALL_ID or (TASK_ID .. ':' .. ATTEMPT))
        if redis.call('HSETNX', TICKET_JOBS_KEY, job_id, WAKE_JOB) == 1 then
          redis.call('LPUSH', TICKET_WAITING_KEY, job_id)
          redis.call('HINCRBY', DISPATCH_STATE_KEY, '${DispatchField.OWED}', -1)
        end
      end
    end
  end
  return set
end
-- Writes changes (field -> value) to the record.
local function write_fields(set)
  local flat = {}
  for field, value in pairs(set) do flat[#flat + 1] = field; flat[#flat + 1] = value end
  if #flat > 0 then redis.call('HSET', TASK_KEY, unpack(flat)) end
end
`,
};

/** The task fields `record_call` reads (recordUsage reads them with one HMGET; the completion has them all). */
const RECORD_CALL_FIELDS = ['tenant', 'apiKeyId', 'usageCalls', 'tokensHeld', 'usagePromptTokens', 'usageCompletionTokens', 'usageCachedTokens', 'usageReasoningTokens', 'usageCostNano', 'usageLog', 'usageOnce'];

/**
 * recordUsage: one provider call's usage (schema/src/usage.ts), whatever became of the attempt:
 * it was billed, so a stale worker's call counts too, though it changes no task state. Appends
 * the ledger entry; adds to the task's sums (when the task still exists), the hour's counters by
 * tenant, API key and model, the all-time totals and the tenant's day and month spend; and
 * releases the call's budget reservation. A task's first recorded call counts it in `tasks`; an
 * estimated call counts in `estimatedCalls` and `estimatedCostNano` too. The task's `usageLog`
 * gets a line for the call (its model, chain place and switch reason: '' for none); it keeps the
 * last USAGE_LOG_MAX_CALLS lines. (RECORD_CALL does it all; taskComplete records the attempt's
 * last call with the same fragment.)
 * A call written ahead as under way is named by `callId` (older ones by `generationId`):
 * replies 1, or 0 when such a call (`wasPending`) was recorded already by someone else (or one
 * with `onceKey`, by a completion that carried it).
 */
export const recordUsage = defineTaskScript({
  shared: 'record',
  keys: [...USAGE_KEYS],
  // With a provider token limit.
  optionalKeys: [...USAGE_TOKEN_KEYS],
  args: [...USAGE_ARGS],
  uses: [BUDGET, RECORD_CALL],
  body: `
-- One read of the task: its tenant, key, sums, token hold and call log; one write of it below.
local fields = { ${RECORD_CALL_FIELDS.map((field) => `'${field}'`).join(', ')} }
local f = redis.call('HMGET', TASK_KEY, unpack(fields))
local task = nil
if f[1] then
  check_tenant(f[1])
  task = {}
  for i, field in ipairs(fields) do
    if f[i] then task[field] = f[i] end
  end
end
local set = record_call(task)
if not set then return 0 end
if task then write_fields(set) end
return 1
`,
  decode: (reply) => reply === 1,
});
