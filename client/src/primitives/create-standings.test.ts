/**
 * The lists' standings, driven by hand: the rows are a signal the test sets, the
 * taskStandingsUpdated events are pushed by the test, frames are run by hand.
 */
import { Provider } from '@urql/solid';
import { renderHook } from '@solidjs/testing-library';
import { createComponent, createSignal, type JSX } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import type { TaskState, WaitReason } from '../gql/graphql.ts';
import { createHandTransport, createManualFrames } from '../test-support/hand-transport.ts';
import { createStandings, MAX_STANDING_IDS, needsResubscribe, waitingIds } from './create-standings.ts';

type Row = { id: string; state: TaskState };
const rows = (spec: string): Row[] =>
  spec
    .split(' ')
    .filter(Boolean)
    .map((part) => {
      const [id, state] = part.split(':');
      return { id: id!, state: ({ p: 'PENDING', s: 'SCHEDULED', a: 'ACTIVE', c: 'COMPLETED' } as const)[state as 'p' | 's' | 'a' | 'c'] };
    });

const at = (second: number) => `2026-01-01T12:00:${String(second).padStart(2, '0')}.000Z`;
const standing = (taskId: string, second: number, queuePosition: number | null, waitReason: WaitReason | null = 'QUEUED') => ({
  taskStandingsUpdated: { taskId, waitReason, queuePosition, estimatedStartAt: null, at: at(second) },
});

function setup(initial: Row[], minIntervalMs = 50) {
  const transport = createHandTransport();
  const frames = createManualFrames();
  const [list, setList] = createSignal<readonly Row[]>(initial);
  const wrapper = (props: { children: JSX.Element }) =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return props.children;
      },
    });
  const hook = renderHook(() => createStandings({ rows: list, minIntervalMs, schedule: frames.schedule }), { wrapper });
  const open = () => transport.operations.filter((operation) => operation.name === 'TaskStandingsUpdated' && !operation.closed);
  return { transport, frames, setList, standings: hook.result, open, cleanup: hook.cleanup };
}

describe('waitingIds and needsResubscribe', () => {
  it('follow the PENDING and SCHEDULED rows, in the list order, at most a hundred', () => {
    expect(waitingIds(rows('a:p b:a c:s d:c'))).toEqual(['a', 'c']);
    const many = Array.from({ length: 150 }, (_, i) => ({ id: `t${i}`, state: 'PENDING' as const }));
    expect(waitingIds(many)).toHaveLength(MAX_STANDING_IDS);
    expect(waitingIds(many).at(-1)).toBe('t99');
  });

  it('subscribe again when a row starts waiting or a waiting row leaves the list, not when a waiting row starts', () => {
    const shown = (spec: string) => ({ waiting: waitingIds(rows(spec)), shown: new Set(rows(spec).map((row) => row.id)) });
    const before = { waiting: ['a', 'b'] };
    expect(needsResubscribe(before, shown('a:p b:p'))).toBe(false);
    expect(needsResubscribe(before, shown('a:a b:p'))).toBe(false);
    expect(needsResubscribe(before, shown('a:p b:p c:p'))).toBe(true);
    expect(needsResubscribe(before, shown('a:p'))).toBe(true);
    expect(needsResubscribe(before, shown('a:p b:p c:a'))).toBe(false);
    expect(needsResubscribe({ waiting: [] }, shown('c:c'))).toBe(false);
  });
});

describe('createStandings', () => {
  it('subscribes for the waiting rows and applies their standings once per frame, the later read winning', async () => {
    const { transport, frames, standings, open, cleanup } = setup(rows('a:p b:a c:s'));
    const operation = await transport.opened('TaskStandingsUpdated');
    expect(operation.variables).toEqual({ ids: ['a', 'c'] });

    transport.push('TaskStandingsUpdated', standing('a', 2, 4));
    transport.push('TaskStandingsUpdated', standing('c', 2, null, 'RETRY_DELAY'));
    expect(standings.standing('a')).toBeUndefined();
    frames.frame();
    expect(standings.standing('a')).toMatchObject({ waitReason: 'QUEUED', queuePosition: 4 });
    expect(standings.standing('c')).toMatchObject({ waitReason: 'RETRY_DELAY', queuePosition: null });

    // Reads of one task can cross: an older one arriving later changes nothing.
    transport.push('TaskStandingsUpdated', standing('a', 5, 2));
    transport.push('TaskStandingsUpdated', standing('a', 3, 3));
    frames.frame();
    expect(standings.standing('a')!.queuePosition).toBe(2);
    // It stopped waiting: the last standing is all nulls.
    transport.push('TaskStandingsUpdated', standing('a', 6, null, null));
    frames.frame();
    expect(standings.standing('a')).toMatchObject({ waitReason: null, queuePosition: null });
    expect(open()).toHaveLength(1);
    cleanup();
    expect(open()).toHaveLength(0);
  });

  it('subscribes again, throttled, when rows start waiting or leave, and not at all without a waiting row', async () => {
    const { transport, setList, standings, open, cleanup } = setup(rows('a:c'), 200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(transport.sent('TaskStandingsUpdated')).toBe(0);

    setList(rows('a:c b:p'));
    await vi.waitFor(() => expect(open().map((operation) => operation.variables)).toEqual([{ ids: ['b'] }]));
    // A waiting row starts: its stream ended with nulls, nothing to subscribe for.
    setList(rows('a:c b:a'));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(transport.sent('TaskStandingsUpdated')).toBe(1);

    // A burst of new rows within the interval: one subscription now, one when it ends with them all.
    setList(rows('c:p a:c b:a'));
    setList(rows('d:p c:p a:c b:a'));
    setList(rows('e:p d:p c:p a:c b:a'));
    await vi.waitFor(() => expect(standings.subscribed()).toEqual(['e', 'd', 'c']));
    expect(transport.sent('TaskStandingsUpdated')).toBe(3);
    expect(open().map((operation) => operation.variables)).toEqual([{ ids: ['e', 'd', 'c'] }]);

    // Waiting rows paged away: no subscription reads them for nobody.
    setList(rows('x:c'));
    await vi.waitFor(() => expect(open()).toHaveLength(0));
    cleanup();
  });

  it('forgets the standings of rows it no longer follows', async () => {
    const { transport, frames, setList, standings, cleanup } = setup(rows('a:p b:p'));
    await transport.opened('TaskStandingsUpdated');
    transport.push('TaskStandingsUpdated', standing('a', 1, 0));
    transport.push('TaskStandingsUpdated', standing('b', 1, 1));
    frames.frame();
    setList(rows('b:p c:p'));
    await vi.waitFor(() => expect(standings.subscribed()).toEqual(['b', 'c']));
    expect(standings.standing('a')).toBeUndefined();
    expect(standings.standing('b')!.queuePosition).toBe(1);
    cleanup();
  });
});
