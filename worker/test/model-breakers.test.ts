/**
 * The worker's view of the model breakers (worker/model-breakers.ts) against a real Redis, as
 * the model chain will use it: several workers' caches over one shared state; what is available
 * in a chain and until when all of it is open, answered from the cache; exactly one probe among
 * every worker asking at the probe time; a probe's outcome closing the breaker for all.
 */
import { describe, expect, it } from 'vitest';
import { ModelCallOutcome } from '../../schema/src/model-breakers.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { createModelBreakers, type ModelBreakers } from '../model-breakers.ts';

const system = useSystem({ server: false });
const SETTINGS = { windowMs: 10_000, volumeThreshold: 2, failureRatio: 0.5, openMs: 300 };

/** `count` workers' breakers on the file's Redis; stopped when the test ends. */
function workers(count: number, probeLeaseMs = 5000): ModelBreakers[] {
  return Array.from({ length: count }, () =>
    createModelBreakers({ redis: system.redis.client, keys: system.keys, logger: testLogger('model-breakers'), settings: SETTINGS, probeLeaseMs, refreshMs: 100 }),
  );
}

async function failTwice(breakers: ModelBreakers, model: string): Promise<void> {
  for (let i = 0; i < 2; i += 1) (await breakers.acquire(model))!.record(ModelCallOutcome.FAILED);
}

describe("a worker's model breakers", () => {
  it('answer from the cache which models of a chain may be called, and until when all are open', async () => {
    const [a, b] = workers(2);
    try {
      expect(a!.available(['m1', 'm2'])).toEqual(['m1', 'm2']);
      await failTwice(a!, 'm1');
      // The worker whose record opened it knows at once; another within its next read.
      await waitFor(() => a!.isOpen('m1'), { message: 'the recording worker to see it open' });
      await waitFor(() => b!.isOpen('m1'), { timeoutMs: 1000, message: 'another worker to see it open' });
      expect(b!.available(['m1', 'm2'])).toEqual(['m2']);
      expect(b!.allOpenUntil(['m1', 'm2'])).toBeNull();
      const until = b!.allOpenUntil(['m1'])!;
      expect(until).toBe(b!.snapshot('m1').halfOpenAt);
      expect(await b!.acquire('m1')).toBeNull();
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });

  it('give the probe to exactly one of every worker asking at the probe time, whose success closes it everywhere', async () => {
    const all = workers(4);
    try {
      await failTwice(all[0]!, 'm3');
      await Promise.all(all.map((breakers) => breakers.refresh()));
      const halfOpenAt = all[0]!.snapshot('m3').halfOpenAt!;
      await waitFor(() => Date.now() >= halfOpenAt + 20, { message: 'the probe time' });
      // Due a probe: no longer "open" to a chain, so acquire decides.
      expect(all[1]!.available(['m3'])).toEqual(['m3']);
      const calls = await Promise.all(all.map((breakers) => breakers.acquire('m3')));
      const probes = calls.filter((call) => call !== null);
      expect(probes).toHaveLength(1);
      expect(probes[0]!.probe).toBe(true);
      // The others now know a probe is under way: open to them, with no round trip.
      for (const [i, breakers] of all.entries()) if (calls[i] === null) expect(breakers.isOpen('m3')).toBe(true);
      probes[0]!.record(ModelCallOutcome.OK);
      for (const breakers of all) await waitFor(() => !breakers.isOpen('m3') && breakers.snapshot('m3').state === 'CLOSED', { timeoutMs: 1000, message: 'every worker to see it closed' });
      const after = await all[2]!.acquire('m3');
      expect(after?.probe).toBe(false);
      after!.record(ModelCallOutcome.OK);
    } finally {
      await Promise.all(all.map((breakers) => breakers.stop()));
    }
  });

  it('let the next caller probe when a probe ends without a word about the model', async () => {
    const [a, b] = workers(2);
    try {
      await failTwice(a!, 'm4');
      await waitFor(() => a!.isOpen('m4'), { message: 'it to open' });
      await waitFor(() => Date.now() >= a!.snapshot('m4').halfOpenAt! + 20, { message: 'the probe time' });
      const probe = (await a!.acquire('m4'))!;
      expect(probe.probe).toBe(true);
      await b!.refresh();
      expect(await b!.acquire('m4')).toBeNull();
      // Cancelled, or refused for the request's own fault: the lease ends with the record.
      probe.record(ModelCallOutcome.OTHER);
      await a!.stop();
      await waitFor(async () => {
        await b!.refresh();
        return !b!.isOpen('m4');
      }, { message: 'the lease to end' });
      expect((await b!.acquire('m4'))?.probe).toBe(true);
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });

  it("take a breaker an operator forced open by hand (the runbook's HSET) as open until a reset", async () => {
    const [a] = workers(1);
    try {
      await system.redis.client.hset(system.keys.modelBreakers(), 'm5', `OPEN:${Date.now()}::`);
      await waitFor(() => a!.isOpen('m5'), { timeoutMs: 1000, message: 'the worker to see it open' });
      expect(a!.allOpenUntil(['m5'])).toBeGreaterThanOrEqual(Date.now() + SETTINGS.openMs - 50);
      expect(await a!.acquire('m5')).toBeNull();
    } finally {
      await a!.stop();
    }
  });
});
