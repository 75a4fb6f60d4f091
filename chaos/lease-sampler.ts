/**
 * Samples, every `everyMs` through a chaos run, which attempts of each tenant hold a live
 * lease: read from the task records themselves (state ACTIVE, `leaseExpiresAt` after Redis'
 * now) in one atomic script over each tenant's slice of the ACTIVE index, not from the
 * dispatcher's own bookkeeping (its running sets). The cap audit (chaos/cap-audit.ts) and the
 * starvation audit (chaos/starvation-audit.ts) read the samples. A sample that fails (Redis
 * restarting) is simply missing.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { sleep } from './random.ts';

/** One moment: per tenant, the attempts (`<task id>:<attempt>`) that held a live lease. */
export interface LeaseSample {
  /** Redis' clock when it was read (epoch ms). */
  at: number;
  live: ReadonlyMap<string, readonly string[]>;
}

/**
 * KEYS: each tenant's slice of the ACTIVE index. ARGV[1]: the task key prefix.
 * Replies {now, 'id:attempt,id:attempt' per tenant, in KEYS' order}.
 */
const LIVE_LEASES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reply = { tostring(now) }
for i, index in ipairs(KEYS) do
  local live = {}
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local f = redis.call('HMGET', ARGV[1] .. id, 'state', 'leaseExpiresAt', 'attempt')
    if f[1] == 'ACTIVE' and tonumber(f[2] or '0') > now then live[#live + 1] = id .. ':' .. f[3] end
  end
  reply[i + 1] = table.concat(live, ',')
end
return reply`;

export interface LeaseSampler {
  samples: readonly LeaseSample[];
  /** Stops sampling; resolves once the sample under way is in. */
  stop(): Promise<void>;
}

/** Starts sampling at once. */
export function startLeaseSampler(redis: Redis, keys: RedisKeys, tenants: readonly string[], everyMs: number): LeaseSampler {
  const samples: LeaseSample[] = [];
  const slices = tenants.map((tenant) => keys.tenantSlice(keys.tasksInState('ACTIVE'), tenant));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const [now, ...lists] = (await redis.eval(LIVE_LEASES, slices.length, ...slices, keys.task(''))) as string[];
        samples.push({ at: Number(now), live: new Map(tenants.map((tenant, i) => [tenant, lists[i] ? lists[i].split(',') : []])) });
      } catch {
        // Redis is restarting: no sample for this moment.
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
