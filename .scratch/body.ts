
/** The helpers every script shares; the bindings above them name its keys and arguments. */
const HELPERS = `
-- One clock reading per script: a transition happens at one instant (and TIME is a command).
local NOW = nil
local function now_ms()
  if not NOW then
    local t = redis.call('TIME')
    NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return NOW
end

-- Integers as digits (tostring would give 1.8e+15), fractions as they are.
local function str(value)
  if type(value) == 'number' and value == math.floor(value) then return string.format('%d', value) end
  return tostring(value)
end

-- Cluster-wide counters for /metrics (see task-stats.ts for the field names). count() and
-- observe() only gather; flush_stats() writes them, which commit() does for every transition.
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
local function count_flow(from, to)
  if redis.call('HINCRBY', FLOW_KEY, (from or '') .. '>' .. (to or ''), 1) == 1 then
    redis.call('PEXPIRE', FLOW_KEY, ${FLOW_BUCKET_TTL_MS})
  end
end

-- The record, or nil when there is none. The tenant slices passed in must be the task's own:
-- otherwise stop before any change, naming the tenant to call again with.
local function read_task()
  local flat = redis.call('HGETALL', TASK_KEY)
  if #flat == 0 then return nil end
  local task = {}
  for i = 1, #flat, 2 do task[flat[i]] = flat[i + 1] end
  if task.tenant ~= TENANT then return error({ err = 'WRONGTENANT ' .. task.tenant }) end
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
    count_flow(old_state, task.state)
    redis.call('ZREM', INDEX[old_state], task.id)
    redis.call('ZADD', INDEX[task.state], task.order, task.id)
    redis.call('ZREM', TENANT_INDEX[old_state], task.id)
    redis.call('ZADD', TENANT_INDEX[task.state], task.order, task.id)
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

/** A task script: its declared keys and arguments (after the shared ones), its Lua, and its reply. */
export interface TaskScript<Key extends string, OptionalKey extends string, Arg extends string, Reply> {
  readonly keys: readonly Key[];
  /** Keys after `keys` that a call may leave out (then the Lua sees nil); all-or-none, in order. */
  readonly optionalKeys: readonly OptionalKey[];
  readonly args: readonly Arg[];
  /** The whole source: bindings, helpers and body. */
  readonly lua: string;
  decode(reply: unknown): Reply;
}

function defineTaskScript<const Key extends string, const OptionalKey extends string, const Arg extends string, Reply>(spec: {
  keys: readonly Key[];
  optionalKeys?: readonly OptionalKey[];
  args: readonly Arg[];
  body: string;
  decode(reply: unknown): Reply;
}): TaskScript<Key, OptionalKey, Arg, Reply> {
  const optionalKeys = spec.optionalKeys ?? [];
  return {
    keys: spec.keys,
    optionalKeys,
    args: spec.args,
    lua: `${luaBindings([...spec.keys, ...optionalKeys], spec.args)}\n${HELPERS}\n${spec.body}`,
    decode: spec.decode,
  };
}

/** What a call passes: the script's own keys and arguments, by name. */
export type ScriptKeys<S> = S extends TaskScript<infer K, infer O, string, unknown> ? Record<K, string> & Partial<Record<O, string>> : never;
export type ScriptArgs<S> = S extends TaskScript<string, string, infer A, unknown> ? Record<A, string | number> : never;
export type ScriptReply<S> = S extends TaskScript<string, string, string, infer R> ? R : never;

/**
 * KEYS and ARGV of one call, in the order the script's bindings expect. Throws when a call
 * names a key or argument the script does not declare, or leaves out one it needs.
 */
export function taskScriptCall<S extends AnyTaskScript>(
  script: S,
  redisKeys: RedisKeys,
  scope: TaskScope,
  common: TaskScriptCommon,
  keys: ScriptKeys<S>,
  args: ScriptArgs<S>,
): { keys: string[]; args: (string | number)[] } {
  const given = keys as Record<string, string | undefined>;
  const values = args as Record<string, string | number | undefined>;
  const declared = new Set<string>([...script.keys, ...script.optionalKeys]);
  for (const name of Object.keys(given)) if (!declared.has(name)) throw new Error(`undeclared key ${name}`);
  for (const name of Object.keys(values)) if (!script.args.includes(name)) throw new Error(`undeclared argument ${name}`);
  const callKeys = SHARED_KEYS.map((slot) => slot.build(redisKeys, scope));
  for (const name of script.keys) {
    const key = given[name];
    if (key === undefined) throw new Error(`missing key ${name}`);
    callKeys.push(key);
  }
  const present = script.optionalKeys.filter((name) => given[name] !== undefined);
  if (present.length > 0 && present.length !== script.optionalKeys.length) throw new Error('optional keys are all or none');
  for (const name of present) callKeys.push(given[name]!);
  const callArgs: (string | number)[] = [common.maxEvents, redisKeys.tasksChannel(), common.actor, scope.tenant];
  for (const name of script.args) {
    const value = values[name];
    if (value === undefined) throw new Error(`missing argument ${name}`);
    callArgs.push(value);
  }
  return { keys: callKeys, args: callArgs };
}

// --- replies -------------------------------------------------------------------------------

function replyList(reply: unknown): [string, ...string[]] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected task script reply');
  return reply.map(String) as [string, ...string[]];
}

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
  | { status: 'conflict'; taskId: string };

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

export type DeleteOutcome = { status: 'ok'; state: TaskState } | { status: 'missing' };
