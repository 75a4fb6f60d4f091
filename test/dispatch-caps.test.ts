/**
 * A tenant's cap (`maxConcurrency`) is never exceeded: 10,000 random operations of several
 * workers against a real Redis (starts, completions, deferrals, crashed workers whose leases run
 * out, zombies that try to renew after a takeover, renewals, pauses) with the count of live
 * leases checked after every one. Live is read from the task records themselves (ACTIVE with a
 * lease not yet run out, by Redis' clock), not from the dispatcher's own bookkeeping.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { createDispatchHarness, type Started } from './support/dispatch-harness.ts';
import { useSystem } from './support/fixtures.ts';
import { seeded } from '../chaos/random.ts';

const system = useSystem({ server: false });

const CAPS: Record<string, number | null> = { solo: 1, trio: 3, free: null, pair: 2 };
const TENANTS = Object.keys(CAPS);
const LEASE_MS = 40;

/** Live leases per tenant, by Redis' clock, in one atomic read of the task records. */
const LIVE_LEASES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = {}
for i, index in ipairs(KEYS) do
  local n = 0
  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local f = redis.call('HMGET', ARGV[1] .. id, 'state', 'leaseExpiresAt')
    if f[1] == 'ACTIVE' and tonumber(f[2] or '0') > now then n = n + 1 end
  end
  live[i] = n
end
return live`;

describe('caps', () => {
  it('are never exceeded through 10,000 random operations of 4 workers, with crashes, lease expiry and zombies', { timeout: 120_000 }, async () => {
    const random = seeded(20261206);
    const h = createDispatchHarness(system.redis.client, { leaseMs: LEASE_MS });
    const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => h.store(id));
    for (const [tenant, cap] of Object.entries(CAPS)) if (cap !== null) await h.dispatch.setPolicy(tenant, { maxConcurrency: cap });
    const slices = TENANTS.map((tenant) => h.keys.tenantSlice(h.keys.tasksInState('ACTIVE'), tenant));
    const taskPrefix = h.keys.task('');
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;

    const running: { started: Started; by: (typeof workers)[number] }[] = [];
    const crashed: { started: Started; by: (typeof workers)[number] }[] = [];
    const deferred: { taskId: string; tenant: string }[] = [];
    const counts = { starts: 0, completions: 0, crashes: 0, zombieRenewals: 0, refusedRenewals: 0 };
    let maxSeen = 0;

    for (let op = 0; op < 10_000; op += 1) {
      const roll = random();
      if (roll < 0.2) {
        await h.submit(pick(TENANTS));
      } else if (roll < 0.5) {
        const by = pick(workers);
        // A ticket for a deferred task (its delayed job coming due), or one that names none.
        const ticket = deferred.length > 0 && random() < 0.3 ? deferred.splice(Math.floor(random() * deferred.length), 1)[0]! : null;
        const token = randomUUID();
        const { outcome } = await by.dispatch(ticket ? { taskId: ticket.taskId, tenant: ticket.tenant, lane: 'retry' } : { taskId: '', tenant: '', lane: '' }, token, 0.3);
        if (outcome.status === 'claimed') {
          counts.starts += 1;
          const lease = { taskId: outcome.taskId, tenant: outcome.tenant, token };
          running.push({ started: { taskId: outcome.taskId, tenant: outcome.tenant, lease, attempt: outcome.attempt, capped: outcome.capped }, by });
        }
      } else if (roll < 0.65 && running.length > 0) {
        const { started, by } = running.splice(Math.floor(random() * running.length), 1)[0]!;
        await h.finish(started, by);
        counts.completions += 1;
      } else if (roll < 0.72 && running.length > 0) {
        const { started, by } = running.splice(Math.floor(random() * running.length), 1)[0]!;
        if ((await by.defer(started.lease, 0, TransitionReason.CIRCUIT_OPEN)).status === 'ok') deferred.push({ taskId: started.taskId, tenant: started.tenant });
        if (started.capped) await by.releaseSlot(started.lease, started.attempt);
      } else if (roll < 0.78 && running.length > 0) {
        // The worker dies: no renewal, no release; its lease runs out by itself.
        crashed.push(running.splice(Math.floor(random() * running.length), 1)[0]!);
        counts.crashes += 1;
      } else if (roll < 0.9 && running.length > 0) {
        const entry = pick(running);
        // A refused renewal: the worker gives up the attempt, and its task waits for a takeover.
        if (!(await entry.by.renew(entry.started.lease)).held) crashed.push(...running.splice(running.indexOf(entry), 1));
      } else if (roll < 0.94 && crashed.length > 0) {
        // A worker woken after its lease ran out tries to carry on.
        const [zombie] = crashed.splice(Math.floor(random() * crashed.length), 1);
        const renewal = await zombie!.by.renew(zombie!.started.lease);
        if (renewal.held) {
          counts.zombieRenewals += 1;
          running.push(zombie!);
        } else {
          // Refused: it stops, and its task still waits for a takeover (the sweeper queues one).
          counts.refusedRenewals += 1;
          crashed.push(zombie!);
        }
      } else if (roll < 0.95) {
        const tenant = pick(TENANTS);
        await h.dispatch.setPolicy(tenant, { paused: random() < 0.5 });
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * LEASE_MS)));
      }
      const live = (await system.redis.client.eval(LIVE_LEASES, slices.length, ...slices, taskPrefix)) as number[];
      TENANTS.forEach((tenant, i) => {
        const cap = CAPS[tenant] ?? null;
        if (cap !== null) {
          if (live[i]! > cap) throw new Error(`operation ${op}: ${tenant} has ${live[i]} live leases over its cap of ${cap}`);
          maxSeen = Math.max(maxSeen, live[i]! / cap);
        }
      });
    }
    // The caps were reached, and every kind of operation happened.
    expect(maxSeen).toBe(1);
    expect(counts.starts).toBeGreaterThan(1000);
    expect(counts.crashes).toBeGreaterThan(100);
    expect(counts.zombieRenewals + counts.refusedRenewals).toBeGreaterThan(50);

    // And nothing is stranded: resumed, with the lost leases run out and each deferred or
    // abandoned task's own ticket delivered (its delayed job, the sweeper's takeover job), every
    // task ends.
    for (const tenant of TENANTS) await h.dispatch.setPolicy(tenant, { paused: false });
    for (const { started, by } of running) await h.finish(started, by);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    const tickets = [...deferred, ...crashed.map(({ started }) => started)];
    for (const { taskId, tenant } of tickets) {
      const token = randomUUID();
      const { outcome } = await workers[0]!.dispatch({ taskId, tenant, lane: 'retry' }, token, 0.3);
      if (outcome.status === 'claimed') {
        await h.finish({ taskId: outcome.taskId, tenant: outcome.tenant, lease: { taskId: outcome.taskId, tenant: outcome.tenant, token }, attempt: outcome.attempt, capped: outcome.capped });
      }
    }
    await h.drain();
    for (const state of ['PENDING', 'SCHEDULED', 'ACTIVE'] as const) {
      expect(await system.redis.client.zcard(h.keys.tasksInState(state)), state).toBe(0);
    }
  });
});
