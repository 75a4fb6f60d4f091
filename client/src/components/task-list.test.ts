/**
 * The recent-tasks list's output tails, against the hand transport: which tasks are followed,
 * what their row shows, and that a task leaving the set stops its subscription.
 */
import { Provider } from '@urql/solid';
import { render, renderHook, screen } from '@solidjs/testing-library';
import { createComponent, createSignal, type JSX } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import type { TaskSummaryFieldsFragment } from '../gql/graphql.ts';
import { createRecentTasks } from '../primitives/create-recent-tasks.ts';
import { createHandTransport } from '../test-support/hand-transport.ts';
import { TaskList } from './task-list.tsx';

const task = (id: string, second: number, patch: Partial<TaskSummaryFieldsFragment> = {}): TaskSummaryFieldsFragment => ({
  id,
  type: 'SUMMARIZE',
  state: 'ACTIVE',
  version: 1,
  progress: 0.5,
  retryCount: 0,
  maxRetries: 3,
  createdAt: `2026-01-01T12:00:${String(second).padStart(2, '0')}.000Z`,
  updatedAt: '2026-01-01T12:00:00.000Z',
  completedAt: null,
  priority: 'NORMAL',
  ...patch,
});

const withClient = (transport: ReturnType<typeof createHandTransport>) => (props: { children: JSX.Element }) =>
  createComponent(Provider, {
    value: transport.client,
    get children() {
      return props.children;
    },
  });

const outputOperations = (transport: ReturnType<typeof createHandTransport>) =>
  transport.operations.filter((operation) => operation.name === 'TaskOutput' && !operation.closed);

describe('TaskList output tails', () => {
  it('follows only the tasks it is given, shows the end of what each wrote, and stops when one leaves', async () => {
    const transport = createHandTransport();
    const tasks = [task('a', 3), task('b', 2), task('c', 1, { state: 'COMPLETED' })];
    const [tails, setTails] = createSignal<readonly string[]>(['a', 'b']);
    const view = render(() =>
      createComponent(withClient(transport), {
        get children() {
          return createComponent(TaskList, { tasks: () => tasks, outputTails: tails, loading: false, error: null });
        },
      }),
    );

    await vi.waitFor(() => expect(outputOperations(transport).map((operation) => operation.variables.id)).toEqual(['a', 'b']));
    // No row before there is text.
    expect(screen.queryAllByTestId('output-tail')).toHaveLength(0);

    const [a, b] = outputOperations(transport);
    a!.sink.next({ data: { taskOutput: { taskId: 'a', cursor: 'a1', attempt: 1, text: `${'x'.repeat(100)}\nthe end so far`, reset: true, final: false } } });
    b!.sink.next({ data: { taskOutput: { taskId: 'b', cursor: 'b1', attempt: 1, text: 'Short.', reset: true, final: false } } });
    await vi.waitFor(() => expect(screen.queryAllByTestId('output-tail')).toHaveLength(2));
    const rowOf = (id: string) => view.container.querySelector(`tr[data-output-of="${id}"]`)!;
    expect(rowOf('a').textContent).toBe(`…${'x'.repeat(65)} the end so far`);
    expect(rowOf('b').textContent).toBe('Short.');
    // The tail row follows its task's row.
    expect(view.container.querySelector('tr[data-task-id="a"]')!.nextElementSibling).toBe(rowOf('a'));

    setTails(['b']);
    expect(a!.closed).toBe(true);
    expect(view.container.querySelector('tr[data-output-of="a"]')).toBeNull();
    expect(outputOperations(transport).map((operation) => operation.variables.id)).toEqual(['b']);
    view.unmount();
    expect(outputOperations(transport)).toHaveLength(0);
  });
});

describe('createRecentTasks outputTails', () => {
  it('are the newest ACTIVE tasks of the list, a few at most, and follow their states', async () => {
    const transport = createHandTransport();
    const hook = renderHook(() => createRecentTasks({ limit: 25, maxOutputTails: 2 }), { wrapper: withClient(transport) });
    await transport.answer('RecentTasks', {
      tasks: { totalCount: 4, nodes: [task('newest', 9), task('done', 8, { state: 'COMPLETED' }), task('older', 7), task('oldest', 6), task('waiting', 5, { state: 'PENDING' })] },
    });
    await vi.waitFor(() => expect(hook.result.outputTails()).toEqual(['newest', 'older']));

    await transport.opened('TasksUpdated');
    transport.push('TasksUpdated', { tasksUpdated: task('newest', 9, { state: 'COMPLETED', version: 2 }) });
    await vi.waitFor(() => expect(hook.result.outputTails()).toEqual(['older', 'oldest']));
    hook.cleanup();
  });
});

describe('TaskList standings', () => {
  it("says where each waiting task stands beside its state, and marks a task's priority unless NORMAL", () => {
    const transport = createHandTransport();
    const tasks = [task('a', 3, { state: 'PENDING', priority: 'HIGH' }), task('b', 2, { state: 'PENDING' }), task('c', 1, { state: 'SCHEDULED', priority: 'LOW' })];
    const standings = {
      a: { waitReason: 'QUEUED' as const, queuePosition: 0, estimatedStartAt: null, at: '2026-01-01T12:00:05.000Z' },
      b: { waitReason: 'TENANT_PAUSED' as const, queuePosition: null, estimatedStartAt: null, at: '2026-01-01T12:00:05.000Z' },
      c: { waitReason: 'QUEUED' as const, queuePosition: 12, estimatedStartAt: '2026-01-01T12:03:00.000Z', at: '2026-01-01T12:00:05.000Z' },
    };
    const view = render(() =>
      createComponent(withClient(transport), {
        get children() {
          return createComponent(TaskList, { tasks: () => tasks, standing: (id) => standings[id as 'a' | 'b' | 'c'], loading: false, error: null });
        },
      }),
    );
    const noteOf = (id: string) => view.container.querySelector(`tr[data-task-id="${id}"] [data-testid="standing"]`)!;
    expect(noteOf('a').textContent).toBe('next · queued');
    expect(noteOf('b').textContent).toBe('paused');
    expect(noteOf('b').getAttribute('title')).toBe('Its tenant is paused');
    expect(noteOf('c').textContent).toBe('12 ahead · queued');
    expect(noteOf('c').getAttribute('title')).toMatch(/^Queued behind other tasks · 12 tasks ahead · expected to start around /);
    expect(Array.from(view.container.querySelectorAll('[data-testid="priority-tag"]')).map((tag) => tag.textContent)).toEqual(['high', 'low']);
    view.unmount();
  });
});
