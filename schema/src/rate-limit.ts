/**
 * The provider rate limit shared by every worker: a token bucket in Redis (one Lua script,
 * Redis' clock), plus a pause every worker honours after the provider answered 429 with a
 * Retry-After.
 *
 * KEYS[1] bucket hash (tokens, at)   KEYS[2] pause-until string (ms)
 * ARGV[1] capacity   ARGV[2] window ms (a full refill takes one window)
 * Returns 0 when a call may go now (a token was taken), else how many ms to wait.
 */
export const TAKE_PROVIDER_TOKEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then return paused_until - now end
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1] or capacity)
local at = tonumber(state[2] or now)
tokens = math.min(capacity, tokens + (now - at) * capacity / window)
local granted = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  granted = math.ceil((1 - tokens) * window / capacity)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], window * 2)
return granted
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
