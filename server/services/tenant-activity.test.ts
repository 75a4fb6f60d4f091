import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DispatchStats } from '../../schema/src/task-stats.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { activityBetween, createTenantActivity, totalsByTenant } from './tenant-activity.ts';

const stats = (starts: Record<string, number>, tokens: Record<string, number>): DispatchStats => ({
  waiting: [],
  starts: Object.entries(starts).flatMap(([tenant, value]) => [
    { tenant, priority: 'NORMAL' as const, value: value - 1 },
    { tenant, priority: 'HIGH' as const, value: 1 },
  ]),
  tokensStarted: Object.entries(tokens).map(([tenant, value]) => ({ tenant, value })),
  wait: { buckets: [], sumMs: 0, count: 0 },
  tokensReserved: 0,
});

describe('activityBetween', () => {
  it('answers the difference per tenant with its shares, and leaves out tenants that did nothing', () => {
    const base = totalsByTenant(stats({ a: 10, 'b:c': 5, idle: 3 }, { a: 1000, 'b:c': 500, idle: 300 }));
    const now = totalsByTenant(stats({ a: 40, 'b:c': 15, idle: 3 }, { a: 4000, 'b:c': 3500, idle: 300 }));
    expect(activityBetween(base, now)).toEqual([
      { tenant: 'a', starts: 30, tokens: 3000, startShare: 0.75, tokenShare: 0.5 },
      { tenant: 'b:c', starts: 10, tokens: 3000, startShare: 0.25, tokenShare: 0.5 },
    ]);
  });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('createTenantActivity', () => {
  it('answers the last N minutes from the sample taken at their start, keeping an hour of samples', async () => {
    vi.useFakeTimers({ now: 0 });
    let starts = 1;
    const activity = createTenantActivity({ read: async () => stats({ a: starts }, { a: starts * 100 }), sampleMs: 10_000, logger: testLogger('activity') });
    activity.start();
    // One start every 10 s for two hours, sampled every 10 s.
    for (let i = 0; i < 720; i += 1) {
      starts += 1;
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect((await activity.activity(5))[0]).toMatchObject({ tenant: 'a', starts: 30, tokens: 3000 });
    expect((await activity.activity(60))[0]).toMatchObject({ tenant: 'a', starts: 360 });
    activity.dispose();
  });

  it('answers from the sample at the start of the window, or from its first sample when it is younger than the window', async () => {
    let clock = 0;
    let current = stats({ a: 1 }, { a: 100 });
    const activity = createTenantActivity({ read: async () => current, sampleMs: 10_000, logger: testLogger('activity'), now: () => clock });
    activity.start();
    await new Promise((resolve) => setImmediate(resolve));
    activity.dispose();
    // Younger than the window: everything since the first sample.
    clock = 60_000;
    current = stats({ a: 11 }, { a: 1100 });
    expect((await activity.activity(5))[0]).toMatchObject({ tenant: 'a', starts: 10, tokens: 1000 });
  });
});
