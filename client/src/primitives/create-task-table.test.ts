/**
 * The tasks table's live merge, driven by hand: an urql Client whose query and subscriptions
 * the test answers and pushes itself, and animation frames the test runs.
 */
import { Provider } from '@urql/solid';
import { renderHook } from '@solidjs/testing-library';
import { createComponent, type JSX } from 'solid-js';
import { describe, expect, it } from 'vitest';
import type { TaskSummaryFieldsFragment } from '../gql/graphql.ts';
import { createHandTransport, createManualFrames } from '../test-support/hand-transport.ts';
import { createTaskTable, DEFAULT_FILTERS, matchesFilters, type TaskFilters } from './create-task-table.ts';

const task = (id: string, version: number, patch: Partial<TaskSummaryFieldsFragment> = {}): TaskSummaryFieldsFragment => ({
  id,
  type: 'SUMMARIZE',
  state: 'PENDING',
  version,
  progress: 0,
  retryCount: 0,
  maxRetries: 3,
  createdAt: `2026-01-01T12:00:${String(version % 60).padStart(2, '0')}.000Z`,
  updatedAt: '2026-01-01T12:00:00.000Z',
  completedAt: null,
  priority: 'NORMAL',
  ...patch,
});

const page = (nodes: TaskSummaryFieldsFragment[], totalCount = nodes.length) => ({
  tasks: { totalCount, pageInfo: { hasNextPage: false, endCursor: null }, nodes },
});

function setup(filters: TaskFilters = DEFAULT_FILTERS) {
  const transport = createHandTransport();
  const frames = createManualFrames();
  const wrapper = (props: { children: JSX.Element }) =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return props.children;
      },
    });
  const hook = renderHook(() => createTaskTable({ filters: () => filters, schedule: frames.schedule, recountMs: 60_000 }), {
    wrapper,
  });
  return { transport, frames, table: hook.result, cleanup: hook.cleanup };
}

describe('createTaskTable', () => {
  it('applies a thousand pushed changes in one frame, keeping the newest version of each row', async () => {
    const { transport, frames, table, cleanup } = setup();
    await transport.answer('TasksPage', page([task('b', 1), task('a', 1)]));
    await transport.opened('TasksUpdated');
    expect(table.ids()).toEqual(['b', 'a']);
    expect(table.total()).toBe(2);

    for (let version = 2; version <= 1001; version += 1) {
      transport.push('TasksUpdated', { tasksUpdated: task(version % 2 ? 'a' : 'b', version, { state: 'ACTIVE', progress: version / 1001 }) });
    }
    // Nothing rendered until the frame: one flush for the whole burst.
    expect(table.row('a')!.version).toBe(1);
    expect(frames.pending()).toBe(1);
    frames.frame();
    expect(table.row('a')!.version).toBe(1001);
    expect(table.row('b')!.version).toBe(1000);
    expect(table.row('a')!.state).toBe('ACTIVE');

    // An older event arriving late changes nothing.
    transport.push('TasksUpdated', { tasksUpdated: task('a', 7, { state: 'PENDING' }) });
    frames.frame();
    expect(table.row('a')!.state).toBe('ACTIVE');
    cleanup();
  });

  it('puts new matching tasks on top of the first page and drops deleted ones', async () => {
    const { transport, frames, table, cleanup } = setup({ ...DEFAULT_FILTERS, state: 'PENDING' });
    await transport.answer('TasksPage', page([task('a', 1)]));
    await transport.opened('TaskDeleted');
    transport.push('TasksUpdated', { tasksUpdated: task('new', 1) });
    transport.push('TasksUpdated', { tasksUpdated: task('elsewhere', 1, { id: 'elsewhere', state: 'COMPLETED' }) });
    transport.push('TaskDeleted', { taskDeleted: 'a' });
    frames.frame();
    expect(table.ids()).toEqual(['new']);
    expect(table.row('a')).toBeUndefined();
    cleanup();
  });

  it('reads the page again when the live feed says it is live again after a reconnect', async () => {
    const { transport, table, cleanup } = setup();
    await transport.answer('TasksPage', page([task('a', 1)]));
    await transport.opened('TasksUpdated');
    // The first "live" comes with the first connection: the page was just read.
    transport.live('TasksUpdated');
    transport.live('TaskDeleted');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(transport.operations.filter((operation) => operation.name === 'TasksPage')).toHaveLength(1);
    // Resubscribed after a reconnect: live again, so read again.
    transport.live('TasksUpdated');
    await transport.answer('TasksPage', page([task('a', 4, { state: 'COMPLETED' }), task('missed', 2)], 2));
    expect(table.ids()).toEqual(['a', 'missed']);
    expect(table.row('a')!.state).toBe('COMPLETED');
    cleanup();
  });

  it('keeps what the live feed brought when a page read older than it arrives', async () => {
    const { transport, frames, table, cleanup } = setup();
    await transport.answer('TasksPage', page([task('a', 1)]));
    await transport.opened('TasksUpdated');
    transport.live('TasksUpdated');
    transport.live('TasksUpdated');
    // The re-read is in flight; meanwhile a task is submitted and 'a' completes.
    await transport.opened('TasksPage');
    transport.push('TasksUpdated', { tasksUpdated: task('new', 1, { createdAt: '2026-01-01T12:01:00.000Z' }) });
    transport.push('TasksUpdated', { tasksUpdated: task('a', 3, { state: 'COMPLETED' }) });
    frames.frame();
    // The read answers with what it saw before both.
    await transport.answer('TasksPage', page([task('a', 2, { state: 'ACTIVE' })]));
    expect(table.ids()).toEqual(['new', 'a']);
    expect(table.row('a')!.state).toBe('COMPLETED');
    cleanup();
  });

  it('matches filters the way the server does', () => {
    const created = Date.parse('2026-01-01T12:00:30.000Z');
    expect(matchesFilters(task('abc', 30), { ...DEFAULT_FILTERS, idPrefix: 'ab' }, null)).toBe(true);
    expect(matchesFilters(task('abc', 30), { ...DEFAULT_FILTERS, idPrefix: 'x' }, null)).toBe(false);
    expect(matchesFilters(task('abc', 30), DEFAULT_FILTERS, created + 1)).toBe(false);
    expect(matchesFilters(task('abc', 30), { ...DEFAULT_FILTERS, state: 'DLQ' }, null)).toBe(false);
  });
});

describe('createTaskTable standings', () => {
  it("follows where the page's waiting tasks stand, and shows none once a task runs", async () => {
    const { transport, frames, table, cleanup } = setup();
    await transport.answer('TasksPage', page([task('b', 1, { state: 'ACTIVE' }), task('a', 1)]));
    const operation = await transport.opened('TaskStandingsUpdated');
    expect(operation.variables).toEqual({ ids: ['a'] });
    transport.push('TaskStandingsUpdated', { taskStandingsUpdated: { taskId: 'a', waitReason: 'QUEUED', queuePosition: 3, estimatedStartAt: null, at: '2026-01-01T12:00:05.000Z' } });
    frames.frame();
    expect(table.standing('a')).toMatchObject({ waitReason: 'QUEUED', queuePosition: 3 });
    expect(table.standing('b')).toBeUndefined();

    // It starts before its stream's last (null) standing arrives: the row shows no standing anyway.
    transport.push('TasksUpdated', { tasksUpdated: task('a', 2, { state: 'ACTIVE' }) });
    frames.frame();
    expect(table.standing('a')).toBeUndefined();
    cleanup();
  });
});
