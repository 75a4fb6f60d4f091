import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskStanding } from '../../schema/src/scripts/dispatch-positions.ts';
import { parseTaskHash, type TaskState } from '../../schema/src/task.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { createTaskStandings, type Standing } from './task-standings.ts';

const record = (id: string, state: TaskState = 'PENDING') =>
  parseTaskHash({ id, tenant: 't', type: 'SUMMARIZE', state, version: '1', progress: '0', retryCount: '0', maxRetries: '3', attempt: '0', createdAt: '1', updatedAt: '1' });

/** A dispatcher whose positions the test sets, counting its reads; hints are fired by hand. */
function fakeDispatcher() {
  const positions = new Map<string, TaskStanding>();
  const reads: string[][] = [];
  let hint: (() => void) | null = null;
  let listening = 0;
  return {
    positions,
    reads,
    get listening() {
      return listening;
    },
    hint: () => hint?.(),
    options: {
      positions: async (ids: readonly string[]) => {
        reads.push([...ids]);
        return ids.map((id) => positions.get(id) ?? { position: null, waitReason: null });
      },
      listen: async (onHint: () => void) => {
        hint = onHint;
        listening += 1;
        return {
          dispose: () => {
            hint = null;
            listening -= 1;
          },
        };
      },
      refreshMs: 500,
      resyncMs: 5000,
      logger: testLogger('standings'),
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('standingOf', () => {
  it('reads every task asked for in the same tick in one positions() call, each task object once', async () => {
    const dispatcher = fakeDispatcher();
    const standings = createTaskStandings(dispatcher.options);
    const tasks = Array.from({ length: 50 }, (_, i) => record(`task-${i}`, i % 2 ? 'PENDING' : 'SCHEDULED'));
    tasks.forEach((task, i) => dispatcher.positions.set(task.id, { position: i, waitReason: 'QUEUED' }));
    // Three fields of each task ask, as the resolvers do.
    const answers = await Promise.all(tasks.flatMap((task) => [standings.standingOf(task), standings.standingOf(task), standings.standingOf(task)]));
    expect(dispatcher.reads).toHaveLength(1);
    expect(dispatcher.reads[0]).toHaveLength(50);
    expect(answers.map((answer) => answer?.position)).toEqual(tasks.flatMap((_, i) => [i, i, i]));
  });

  it('answers null for a task that is not waiting, without reading', async () => {
    const dispatcher = fakeDispatcher();
    const standings = createTaskStandings(dispatcher.options);
    for (const state of ['ACTIVE', 'COMPLETED', 'DLQ', 'CANCELLED'] as const) expect(standings.standingOf(record('x', state))).toBeNull();
    expect(dispatcher.reads).toEqual([]);
  });

  it('answers the standing a live update brought, without reading', async () => {
    const dispatcher = fakeDispatcher();
    const standings = createTaskStandings(dispatcher.options);
    const standing: Standing = { position: 3, waitReason: 'QUEUED', at: 1 };
    expect(await standings.standingOf(standings.withStanding(record('x'), standing))).toEqual(standing);
    expect(dispatcher.reads).toEqual([]);
  });
});

describe('follow', () => {
  it('costs nothing while nobody follows: no subscription, no timer, no read', async () => {
    const dispatcher = fakeDispatcher();
    createTaskStandings(dispatcher.options);
    dispatcher.hint();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dispatcher.listening).toBe(0);
    expect(dispatcher.reads).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads every followed task again in one call at most every refreshMs after changes, and tells only those whose standing changed', async () => {
    const dispatcher = fakeDispatcher();
    const standings = createTaskStandings(dispatcher.options);
    const seen: [string, number | null][] = [];
    for (const [id, position] of [['a', 4], ['b', 9]] as const) {
      dispatcher.positions.set(id, { position, waitReason: 'QUEUED' });
      standings.follow(id, { position, waitReason: 'QUEUED', at: 0 }, (standing) => seen.push([id, standing.position]));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(dispatcher.listening).toBe(1);
    dispatcher.positions.set('a', { position: 3, waitReason: 'QUEUED' });
    for (let i = 0; i < 20; i += 1) dispatcher.hint();
    await vi.advanceTimersByTimeAsync(0);
    expect(dispatcher.reads).toEqual([['a', 'b']]);
    expect(seen).toEqual([['a', 3]]);
    // More changes at once: the next read waits for the refresh interval.
    dispatcher.positions.set('b', { position: 8, waitReason: 'QUEUED' });
    dispatcher.hint();
    await vi.advanceTimersByTimeAsync(499);
    expect(dispatcher.reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(dispatcher.reads).toHaveLength(2);
    expect(seen).toEqual([['a', 3], ['b', 8]]);
  });

  it('reads again on the resync timer with no hint, and stops everything once the last follower leaves', async () => {
    const dispatcher = fakeDispatcher();
    const standings = createTaskStandings(dispatcher.options);
    dispatcher.positions.set('a', { position: null, waitReason: 'TENANT_PAUSED' });
    const seen: Standing[] = [];
    const followed = standings.follow('a', { position: null, waitReason: 'TENANT_PAUSED', at: 0 }, (standing) => seen.push(standing));
    // Resumed on another server: nothing is published, the resync finds it.
    dispatcher.positions.set('a', { position: 2, waitReason: 'QUEUED' });
    await vi.advanceTimersByTimeAsync(5001);
    expect(seen.map((standing) => standing.position)).toEqual([2]);
    followed.dispose();
    await vi.advanceTimersByTimeAsync(0);
    expect(dispatcher.listening).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
