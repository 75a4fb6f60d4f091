/**
 * The chaos run's dispatcher invariants on their own (docs/chaos.md), on hand-made samples,
 * policy changes and task histories, so a broken one is known to fail the run: no cap ever
 * exceeded (chaos/cap-audit.ts) and no task starved past its bound (chaos/starvation-audit.ts).
 */
import { describe, expect, it } from 'vitest';
import { auditCaps } from '../chaos/cap-audit.ts';
import type { LeaseSample } from '../chaos/lease-sampler.ts';
import type { PolicyChange } from '../chaos/policies.ts';
import { capsAt, pausedIntervals } from '../chaos/policy-timeline.ts';
import { auditStarvation, starvationBound, type BoundTerms } from '../chaos/starvation-audit.ts';
import type { TaskHistory } from '../chaos/task-history.ts';

const T0 = Date.UTC(2026, 11, 6, 12);
const at = (seconds: number) => T0 + seconds * 1000;

const change = (tenant: string, input: PolicyChange['input'], sent: number, answered: number | null, kind: PolicyChange['kind'] = 'cap'): PolicyChange => ({
  kind,
  tenant,
  input,
  sentAt: at(sent),
  answeredAt: answered === null ? null : at(answered),
});

const sample = (seconds: number, live: Record<string, string[]>): LeaseSample => ({ at: at(seconds), live: new Map(Object.entries(live)) });

describe('the policy timeline', () => {
  it('keeps a tenant paused from the pause being sent until a resume is answered', () => {
    const changes = [
      change('acme', { paused: true }, 1, 2, 'pause'),
      change('acme', { paused: false }, 5, null, 'resume'),
      change('globex', { paused: true }, 6, 7, 'pause'),
      change('acme', { paused: false }, 8, 9, 'resume'),
      change('acme', { paused: true }, 10, null, 'pause'),
    ];
    expect(pausedIntervals(changes, 'acme')).toEqual([
      [at(1), at(9)],
      [at(10), Infinity],
    ]);
  });

  it('knows which caps may be in force: the last answered, and any sent since', () => {
    const changes = [change('acme', { maxConcurrency: 3 }, 1, 2), change('acme', { maxConcurrency: null }, 4, null), change('acme', { maxConcurrency: 1 }, 6, 7)];
    expect(capsAt(changes, at(0))).toEqual({ caps: [null], since: -Infinity });
    expect(capsAt(changes, at(1.5))).toEqual({ caps: [null, 3], since: -Infinity });
    expect(capsAt(changes, at(5))).toEqual({ caps: [3, null], since: at(2) });
    expect(capsAt(changes, at(8))).toEqual({ caps: [1], since: at(7) });
  });
});

describe('the cap invariant', () => {
  const claims = new Map([
    ['a:1', at(1)],
    ['b:1', at(2)],
    ['c:1', at(3)],
    ['d:1', at(12)],
  ]);
  const claimedAt = (attempt: string) => claims.get(attempt);

  it('breaks when an attempt starts after the cap was set while the tenant is at it', () => {
    const { problems, stats } = auditCaps({
      tenants: ['acme'],
      changes: [change('acme', { maxConcurrency: 2 }, 9, 10)],
      samples: [sample(11, { acme: ['a:1', 'b:1'] }), sample(13, { acme: ['a:1', 'b:1', 'd:1'] })],
      claimedAt,
    });
    expect(problems).toEqual([
      'caps: acme had 3 live leases at 12:00:13.000 over its cap of 2 (in force since 12:00:10.000); the newest started at 12:00:12.000: a:1 b:1 d:1',
    ]);
    expect(stats[0]).toMatchObject({ cappedSamples: 2, atCap: 2, maxLive: 3, capAtMax: 2, excused: 0 });
  });

  it('lets attempts started before a lowering finish, and counts that as excused', () => {
    const { problems, stats } = auditCaps({
      tenants: ['acme'],
      changes: [change('acme', { maxConcurrency: 1 }, 9, 10)],
      samples: [sample(11, { acme: ['a:1', 'b:1', 'c:1'] }), sample(12, { acme: ['b:1', 'c:1'] }), sample(13, { acme: ['c:1'] })],
      claimedAt,
    });
    expect(problems).toEqual([]);
    expect(stats[0]).toMatchObject({ excused: 2, atCap: 3, maxLive: 3 });
  });

  it('judges a moment while a change is in flight by the larger of the two caps, and an uncapped tenant not at all', () => {
    const { problems, stats } = auditCaps({
      tenants: ['acme', 'globex'],
      changes: [change('acme', { maxConcurrency: 3 }, 0, 0.5), change('acme', { maxConcurrency: 1 }, 11, 14), change('globex', { maxConcurrency: null }, 0, 0.5)],
      samples: [sample(12, { acme: ['a:1', 'b:1', 'd:1'], globex: ['x:1', 'y:1', 'z:1'] })],
      claimedAt,
    });
    expect(problems).toEqual([]);
    expect(stats.map((s) => s.cappedSamples)).toEqual([1, 0]);
  });

  it('breaks on an attempt with no claim in its history: it cannot prove it came before', () => {
    const { problems } = auditCaps({
      tenants: ['acme'],
      changes: [change('acme', { maxConcurrency: 1 }, 0, 1)],
      samples: [sample(5, { acme: ['a:1', 'ghost:1'] })],
      claimedAt,
    });
    expect(problems).toHaveLength(1);
  });
});

describe('the starvation invariant', () => {
  // 4 tenants, weights up to 5, RETRY_RATIO 0.3: 36 starts of others; at 10 starts/s, 3.6 s.
  const terms: BoundTerms = { leaseMs: 2000, sweepIntervalMs: 1000, retryRatio: 0.3, maxWeight: 5 };
  let n = 0;
  /** A task submitted at `submitted` s, first started at `started` s (null: never), in its tenant's line by `rank`. */
  const task = (tenant: string, submitted: number, started: number | null, rank = submitted): TaskHistory => ({
    id: `${tenant}-${(n += 1)}`,
    tenant,
    priority: 'NORMAL',
    submittedAt: at(submitted),
    rank: at(rank),
    claims: started === null ? [] : [{ attempt: 1, at: at(started) }],
    endedUnstartedAt: null,
  });
  /** Another tenant starting a task every 100 ms from `from` s to `to` s: a busy cluster, 10 starts/s. */
  const busy = (from: number, to: number) => Array.from({ length: (to - from) * 10 }, (_, i) => task('other', from + i / 10, from + i / 10));
  const run = (histories: TaskHistory[], changes: PolicyChange[] = [], samples: LeaseSample[] = []) =>
    auditStarvation({ histories, tenants: ['acme', 'other'], samples, changes, auditAt: at(100), bound: terms });

  it('is bounded by the fair turns of the others at the run’s start rate, plus a lease and a sweep', () => {
    expect(starvationBound(terms, 4, 10)).toEqual({ turns: 36, boundMs: 2000 + 1000 + 3600 });
    expect(starvationBound(terms, 4, 0).boundMs).toBe(Infinity);
  });

  it("does not count a wait behind the tenant's own earlier tasks", () => {
    // Four tasks at once, started 3 s apart: the last waited 9 s, but 3 s at the head of the line.
    const histories = [task('acme', 0, 0.1), task('acme', 0, 3.1, 0.001), task('acme', 0, 6.1, 0.002), task('acme', 0, 9.1, 0.003), ...busy(0, 20)];
    const { problems, worst } = run(histories);
    expect(problems).toEqual([]);
    expect(worst.find((w) => w.tenant === 'acme')).toMatchObject({ starvedMs: 3000, tasks: 4 });
  });

  it('breaks when a task at the head of its line waits while the others start', () => {
    const starved = task('acme', 1, 15);
    const { problems, boundMs } = run([starved, ...busy(0, 20)]);
    // 2 tenants: 6 turns x 2 = 12 starts at about 10/s.
    expect(boundMs).toBeGreaterThan(4000);
    expect(boundMs).toBeLessThan(4500);
    expect(problems).toEqual([
      `starvation: ${starved.id} (acme, NORMAL) waited 14.0 s, 0.0 s of it behind its tenant's own tasks; 14.0 s of the rest unexcused, over the bound of ${(boundMs / 1000).toFixed(1)} s`,
    ]);
  });

  it('allows the turns longer where the whole cluster started tasks slower during the wait', () => {
    // Busy at 10 starts/s, but only 1 start every 0.8 s while the task waited: no stall, just slow.
    const slow = Array.from({ length: 15 }, (_, i) => task('other', 1 + i * 0.8, 1 + i * 0.8));
    const { problems, boundMs } = run([task('acme', 1, 13), ...busy(0, 1), ...slow, ...busy(13, 30)]);
    expect(boundMs).toBeLessThan(6000);
    expect(problems).toEqual([]);
  });

  it('excuses the time its tenant was paused or at its cap, and stalls of the whole cluster', () => {
    const paused = task('acme', 1, 13);
    const pauses = [change('acme', { paused: true }, 0.5, 0.6, 'pause'), change('acme', { paused: false }, 11, 11.5, 'resume')];
    expect(run([paused, ...busy(0, 20)], pauses).problems).toEqual([]);

    const capped = task('acme', 1, 13);
    const cap = [change('acme', { maxConcurrency: 1 }, 0, 0.5)];
    const full = Array.from({ length: 100 }, (_, i) => sample(1 + i / 10, { acme: ['running:1'] }));
    expect(run([capped, ...busy(0, 20)], cap, full).problems).toEqual([]);
    // The same cap with a free slot excuses nothing.
    const free = Array.from({ length: 100 }, (_, i) => sample(1 + i / 10, { acme: [] }));
    expect(run([task('acme', 1, 13), ...busy(0, 20)], cap, free).problems).toHaveLength(1);

    const stalled = task('acme', 1, 13);
    const { problems, stalls } = run([stalled, ...busy(0, 2), ...busy(12, 20)]);
    expect(problems).toEqual([]);
    expect(stalls).toMatchObject({ count: 1 });
  });

  it('counts a task that never started as waiting until the audit', () => {
    const { problems } = run([task('acme', 1, null), ...busy(0, 20)]);
    expect(problems).toHaveLength(1);
  });
});
