/**
 * Token buckets in Redis (one Lua script each, Redis' clock): the provider rate limit shared
 * by every worker, plus a pause every worker honours after the provider answered 429 with a
 * Retry-After; and each API caller's submission limit.
 */
const TOKEN_BUCKET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- Takes count tokens from the bucket (capacity per window, refilled continuously); returns 0
-- when they were taken, else how many ms until there will be enough.
local function take_tokens(bucket_key, capacity, window, count)
  local state = redis.call('HMGET', bucket_key, 'tokens', 'at')
  local tokens = tonumber(state[1] or capacity)
  local at = tonumber(state[2] or now)
  tokens = math.min(capacity, tokens + (now - at) * capacity / window)
  local wait = 0
  if tokens >= count then
    tokens = tokens - count
  else
    wait = math.ceil((count - tokens) * window / capacity)
  end
  redis.call('HSET', bucket_key, 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', bucket_key, window * 2)
  return wait
end
`;

/**
 * KEYS[1] bucket hash (tokens, at)   KEYS[2] pause-until string (ms)
 * ARGV[1] capacity   ARGV[2] window ms (a full refill takes one window)
 * Returns 0 when a call may go now (a token was taken), else how many ms to wait.
 */
export const TAKE_PROVIDER_TOKEN = `${TOKEN_BUCKET}
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then return paused_until - now end
return take_tokens(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 1)
`;

/**
 * TAKE_PROVIDER_TOKEN, and when the token is taken, the call's write-ahead record in the same
 * round trip (schema/src/scripts/usage.ts `PendingCall`): the call is known to be under way
 * before its request leaves, at no extra round trip.
 * KEYS[1] bucket hash   KEYS[2] pause-until   KEYS[3] `RedisKeys.usagePending`
 * ARGV[1] capacity   ARGV[2] window ms   ARGV[3] the call id   ARGV[4] the record (JSON)
 * Returns 0 when a call may go now (and was written), else how many ms to wait (nothing written).
 */
export const TAKE_PROVIDER_TOKEN_WRITING_AHEAD = `${TOKEN_BUCKET}
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then return paused_until - now end
local wait = take_tokens(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 1)
if wait <= 0 then redis.call('HSET', KEYS[3], ARGV[3], ARGV[4]) end
return wait
`;

/**
 * A caller's submission bucket: KEYS[1] bucket hash   ARGV[1] capacity   ARGV[2] window ms
 * ARGV[3] how many submissions. Takes all or none; returns 0, or the ms to wait (a request
 * for more than the capacity can never pass and gets -1).
 */
export const TAKE_SUBMIT_TOKENS = `${TOKEN_BUCKET}
local capacity, count = tonumber(ARGV[1]), tonumber(ARGV[3])
if count > capacity then return -1 end
return take_tokens(KEYS[1], capacity, tonumber(ARGV[2]), count)
`;

/**
 * Sets the shared pause to now + ms unless a later one is already set.
 * KEYS[1] pause-until   ARGV[1] ms.  Returns the pause-until time.
 */
export const PAUSE_PROVIDER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
  return untilMs
end
return current
`;

/**
 * Takes the tasks held for the rate limit (schema/src/holds.ts) whose deferral ends later than
 * a call could go now: their hold was lifted (the pause cleared or cut short, the limit raised).
 * "Could go now" is the pause's end, else when the bucket will hold a token (none is taken);
 * `slack` keeps a deferral that ends about then where it is. At most `max` entries, earliest
 * first; entries whose deferral has ended are dropped. One step, so one worker takes each entry.
 * KEYS[1] bucket hash   KEYS[2] pause-until   KEYS[3] the rate-limit hold's index
 * ARGV[1] capacity   ARGV[2] window ms   ARGV[3] slack ms   ARGV[4] max.  Replies {id, due, ...}.
 */
export const TAKE_LIFTED_HOLDS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local wait = 0
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then
  wait = paused_until - now
else
  local capacity, window = tonumber(ARGV[1]), tonumber(ARGV[2])
  local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = math.min(capacity, tonumber(state[1] or capacity) + (now - tonumber(state[2] or now)) * capacity / window)
  if tokens < 1 then wait = math.ceil((1 - tokens) * window / capacity) end
end
local lifted = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. (now + wait + tonumber(ARGV[3])), '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
for i = 1, #lifted, 2 do redis.call('ZREM', KEYS[3], lifted[i]) end
return lifted
`;

export interface RateLimit {
  /** Calls allowed per window. */
  capacity: number;
  windowMs: number;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `230/10s`, `5/1m`, `100/500ms`. Throws on anything else. */
export function parseRateLimit(text: string): RateLimit {
  const match = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!match) throw new Error(`rate limit "${text}" is not like 230/10s`);
  const capacity = Number(match[1]);
  const windowMs = Number(match[2] || 1) * UNITS_MS[match[3]!]!;
  if (capacity < 1 || windowMs < 1) throw new Error(`rate limit "${text}" must allow at least 1 call per window`);
  return { capacity, windowMs };
}
