/**
 * The model breakers' scripts (the state they keep: schema/src/model-breakers.ts):
 *   modelBreakerRecord       one call's outcome: counted, and the breaker opened, closed or
 *                            re-opened by it
 *   modelBreakerProbe        at an open breaker's probe time: the one caller that gets the
 *                            probe lease (SET NX PX), the others are told to wait
 *   modelBreakersReset       an operator's reset: every model's breaker closed, counts cleared
 *   modelBreakersForceOpen   an operator's forced open: every model known or configured is open,
 *                            with no probe, until a reset
 * None takes the shared task keys (`shared: 'none'`). Each change of a breaker is published on
 * the model breakers channel (`<STATE> <model>`), a hint for the workers' caches.
 */
import { Channels } from '../channels.ts';
import { CircuitState } from '../circuit.ts';
import { defineTaskScript, replyList, type LuaFragment } from './kit/define.ts';
import { TEMPLATE_VALUE, type KeyTemplate } from './kit/templates.ts';

const CALLS_TEMPLATE: KeyTemplate = { lua: 'CALLS_TEMPLATE', build: (keys) => keys.modelCalls(TEMPLATE_VALUE) };
const PROBE_TEMPLATE: KeyTemplate = { lua: 'PROBE_TEMPLATE', build: (keys) => keys.modelProbe(TEMPLATE_VALUE) };

/**
 * `read_breaker(model)`: the model's breaker from BREAKERS_KEY (`state`, `opened_at`,
 * `half_open_at`, `probe_until`; numbers or nil; `stored` false when the model has no field: it
 * is closed). `write_breaker(model, b)`: writes it back and publishes its state.
 */
export const MODEL_BREAKER: LuaFragment = {
  lua: `
local function read_breaker(model)
  local value = redis.call('HGET', BREAKERS_KEY, model)
  local parts, from = {}, 1
  local text = value or ''
  while true do
    local at = string.find(text, ':', from, true)
    if not at then parts[#parts + 1] = string.sub(text, from); break end
    parts[#parts + 1] = string.sub(text, from, at - 1)
    from = at + 1
  end
  local state = parts[1]
  if state ~= '${CircuitState.OPEN}' and state ~= '${CircuitState.HALF_OPEN}' then state = '${CircuitState.CLOSED}' end
  return { stored = value ~= false, state = state, opened_at = tonumber(parts[2] or ''),
    half_open_at = tonumber(parts[3] or ''), probe_until = tonumber(parts[4] or '') }
end
local function write_breaker(model, b)
  local value = b.state .. ':' .. str(b.opened_at or '') .. ':' .. str(b.half_open_at or '') .. ':' .. str(b.probe_until or '')
  redis.call('HSET', BREAKERS_KEY, model, value)
  redis.call('PUBLISH', MODEL_BREAKERS_CHANNEL, b.state .. ' ' .. model)
end
`,
};

/** What a recorded call did to its breaker, with the window's counts after it (0 for a probe's outcome and an `other`). */
export type RecordOutcome =
  | { status: 'counted' | 'closed' | 'released'; calls: number; failures: number }
  | { status: 'opened'; calls: number; failures: number; halfOpenAt: number };

/**
 * modelBreakerRecord: one finished call to MODEL. Every outcome is counted in the totals;
 * `ok` and `failed` in the window's current bucket too (old buckets dropped, the hash expiring a
 * window after its last write). A probe's outcome (PROBE_TOKEN holding the lease of a half-open
 * breaker) decides it: `ok` closes it and clears its counts, `failed` opens it again for OPEN_MS,
 * `other` ends the lease (the next caller probes). Otherwise a failure that brings the window to
 * at least VOLUME_THRESHOLD calls of which at least FAILURE_RATIO failed opens a closed breaker
 * until now + OPEN_MS. Calls finishing while it is open (begun before) are counted, nothing more.
 * Replies {status, calls, failures[, halfOpenAt]}.
 */
export const recordModelCall = defineTaskScript({
  shared: 'none',
  keys: ['breakers', 'calls', 'probe', 'totals'],
  args: ['model', 'outcome', 'probeToken', 'windowMs', 'volumeThreshold', 'failureRatio', 'openMs'],
  channels: [Channels.modelBreakers],
  uses: [MODEL_BREAKER],
  body: `
local now = now_ms()
local window = tonumber(WINDOW_MS)
local bucket_ms = math.max(1, math.floor(window / 10))
redis.call('HINCRBY', TOTALS_KEY, MODEL .. '\\t' .. OUTCOME, 1)
local breaker = read_breaker(MODEL)
-- Every model called gets a field, so the hash lists them all (for operators and resets).
if not breaker.stored then redis.call('HSET', BREAKERS_KEY, MODEL, '${CircuitState.CLOSED}:::') end
local calls, failures = 0, 0
if OUTCOME ~= 'other' then
  local start = now - (now % bucket_ms)
  redis.call('HINCRBY', CALLS_KEY, 'c:' .. start, 1)
  if OUTCOME == 'failed' then redis.call('HINCRBY', CALLS_KEY, 'f:' .. start, 1) end
  local flat, old = redis.call('HGETALL', CALLS_KEY), {}
  for i = 1, #flat, 2 do
    local at = tonumber(string.sub(flat[i], 3))
    if not at or at <= now - window then
      old[#old + 1] = flat[i]
    elseif string.sub(flat[i], 1, 2) == 'c:' then
      calls = calls + tonumber(flat[i + 1])
    else
      failures = failures + tonumber(flat[i + 1])
    end
  end
  if #old > 0 then redis.call('HDEL', CALLS_KEY, unpack(old)) end
  redis.call('PEXPIRE', CALLS_KEY, window + bucket_ms)
end
local function open_breaker()
  local half_open_at = now + tonumber(OPEN_MS)
  write_breaker(MODEL, { state = '${CircuitState.OPEN}', opened_at = now, half_open_at = half_open_at })
  return {'opened', calls, failures, str(half_open_at)}
end
if PROBE_TOKEN ~= '' and breaker.state == '${CircuitState.HALF_OPEN}' and redis.call('GET', PROBE_KEY) == PROBE_TOKEN then
  redis.call('DEL', PROBE_KEY)
  if OUTCOME == 'ok' then
    redis.call('DEL', CALLS_KEY)
    write_breaker(MODEL, { state = '${CircuitState.CLOSED}' })
    return {'closed', 0, 0}
  elseif OUTCOME == 'failed' then
    return open_breaker()
  end
  -- The probe said nothing of the model: its lease ends now, and the next caller probes.
  breaker.probe_until = now
  write_breaker(MODEL, breaker)
  return {'released', calls, failures}
end
if breaker.state == '${CircuitState.CLOSED}' and OUTCOME == 'failed' and calls >= tonumber(VOLUME_THRESHOLD)
  and failures >= tonumber(FAILURE_RATIO) * calls then
  return open_breaker()
end
return {'counted', calls, failures}
`,
  decode(reply): RecordOutcome {
    const [status, calls, failures, halfOpenAt] = replyList(reply);
    const counts = { calls: Number(calls), failures: Number(failures) };
    if (status === 'opened') return { status, ...counts, halfOpenAt: Number(halfOpenAt) };
    return { status: status as 'counted' | 'closed' | 'released', ...counts };
  },
});

/** A probe request's answer: the probe is the caller's, or why not. */
export type ProbeOutcome =
  | { status: 'probe' | 'closed' }
  | { status: 'open'; halfOpenAt: number | null }
  | { status: 'busy'; probeUntil: number };

/**
 * modelBreakerProbe: asks for MODEL's probe. A closed breaker needs none (`closed`); an open one
 * before its probe time (or forced open: no probe time) answers `open`. At or after its probe
 * time, or half-open with the last probe's lease run out, the one caller whose SET NX PX takes
 * the lease (PROBE_TOKEN for LEASE_MS) gets `probe` and the breaker is half-open; every other
 * caller gets `busy` until the lease ends.
 */
export const probeModel = defineTaskScript({
  shared: 'none',
  keys: ['breakers', 'probe'],
  args: ['model', 'probeToken', 'leaseMs'],
  channels: [Channels.modelBreakers],
  uses: [MODEL_BREAKER],
  body: `
local breaker = read_breaker(MODEL)
local now = now_ms()
if breaker.state == '${CircuitState.CLOSED}' then return {'closed'} end
if breaker.state == '${CircuitState.OPEN}' and (not breaker.half_open_at or now < breaker.half_open_at) then
  return {'open', str(breaker.half_open_at or '')}
end
if redis.call('SET', PROBE_KEY, PROBE_TOKEN, 'NX', 'PX', tonumber(LEASE_MS)) then
  breaker.state = '${CircuitState.HALF_OPEN}'
  breaker.probe_until = now + tonumber(LEASE_MS)
  write_breaker(MODEL, breaker)
  return {'probe'}
end
return {'busy', str(math.max(now, now + redis.call('PTTL', PROBE_KEY)))}
`,
  decode(reply): ProbeOutcome {
    const [status, at] = replyList(reply);
    if (status === 'open') return { status, halfOpenAt: at ? Number(at) : null };
    if (status === 'busy') return { status, probeUntil: Number(at) };
    return { status: status === 'probe' ? 'probe' : 'closed' };
  },
});

/** modelBreakersReset: closes every model's breaker, clears its counts and any probe lease. Replies how many. */
export const resetModelBreakers = defineTaskScript({
  shared: 'none',
  keys: ['breakers'],
  args: [],
  channels: [Channels.modelBreakers],
  templates: [CALLS_TEMPLATE, PROBE_TEMPLATE],
  uses: [MODEL_BREAKER],
  body: `
local flat = redis.call('HGETALL', BREAKERS_KEY)
for i = 1, #flat, 2 do
  redis.call('DEL', key_of(CALLS_TEMPLATE, flat[i]), key_of(PROBE_TEMPLATE, flat[i]))
  write_breaker(flat[i], { state = '${CircuitState.CLOSED}' })
end
return #flat / 2
`,
  decode: (reply) => Number(reply),
});

/**
 * modelBreakersForceOpen: opens the breaker of every model in the hash and of every model in
 * MODELS (newline-separated: the configured chain, which may not have been called yet), with no
 * probe time: only a reset closes them. Replies how many.
 */
export const forceOpenModelBreakers = defineTaskScript({
  shared: 'none',
  keys: ['breakers'],
  args: ['models'],
  channels: [Channels.modelBreakers],
  templates: [PROBE_TEMPLATE],
  uses: [MODEL_BREAKER],
  body: `
local now = now_ms()
local models, seen = {}, {}
local function add(model)
  if model ~= '' and not seen[model] then seen[model] = true; models[#models + 1] = model end
end
for model in string.gmatch(MODELS, '[^\\n]+') do add(model) end
local flat = redis.call('HGETALL', BREAKERS_KEY)
for i = 1, #flat, 2 do add(flat[i]) end
for _, model in ipairs(models) do
  redis.call('DEL', key_of(PROBE_TEMPLATE, model))
  write_breaker(model, { state = '${CircuitState.OPEN}', opened_at = now })
end
return #models
`,
  decode: (reply) => Number(reply),
});
