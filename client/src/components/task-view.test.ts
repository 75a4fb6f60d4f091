/**
 * The task page's live output, rendered in happy-dom against the hand transport: the task's
 * snapshot and its output chunks are pushed by the test.
 */
import { Provider } from '@urql/solid';
import { render, screen } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import type { TaskDetailFieldsFragment } from '../gql/graphql.ts';
import type { OutputChunk } from '../primitives/output-merge.ts';
import { createHandTransport } from '../test-support/hand-transport.ts';
import { TaskView } from './task-view.tsx';

const task = (version: number, patch: Partial<TaskDetailFieldsFragment> = {}): { taskUpdated: TaskDetailFieldsFragment } => ({
  taskUpdated: {
    id: 't1',
    type: 'SUMMARIZE',
    state: 'ACTIVE',
    version,
    progress: 0.2,
    retryCount: 0,
    maxRetries: 3,
    createdAt: '2026-01-01T12:00:00.000Z',
    updatedAt: '2026-01-01T12:00:01.000Z',
    completedAt: null,
    content: 'Some long text.',
    result: null,
    startedAt: '2026-01-01T12:00:01.000Z',
    nextAttemptAt: null,
    workerId: 'w1',
    usage: null,
    errors: [],
    history: [],
    ...patch,
  },
});
const failedAttempt = { errorClass: 'SERVICE_UNAVAILABLE' as const, message: 'HTTP 503', httpStatus: 503, attempt: 1, at: '2026-01-01T12:00:02.000Z', nextAttemptAt: null };

const chunk = (cursor: string, text: string, patch: Partial<OutputChunk> = {}): { taskOutput: OutputChunk } => ({
  taskOutput: { taskId: 't1', cursor, attempt: 1, text, reset: false, final: false, ...patch },
});

function setup() {
  const transport = createHandTransport();
  const view = render(() =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return createComponent(TaskView, { id: 't1', canWrite: false });
      },
    }),
  );
  return { transport, unmount: view.unmount };
}

/** Waits for the next frame to apply what was pushed. */
const shows = (testId: string, text: string) => vi.waitFor(() => expect(screen.getByTestId(testId).textContent).toBe(text));

describe('TaskView live output', () => {
  it('grows the text in one element, follows a new attempt after a reset, then shows the result', async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    transport.push('TaskUpdated', task(3));
    expect((await transport.opened('TaskOutput')).variables).toEqual({ id: 't1', after: null });
    expect(screen.getByText('No result yet.')).toBeTruthy();

    transport.push('TaskOutput', chunk('c1', 'The quick', { reset: true }));
    await shows('output', 'The quick');
    const paragraph = screen.getByTestId('output');
    expect(screen.getByTestId('output-attempt').textContent).toBe('attempt 1 writing…');

    transport.push('TaskOutput', chunk('c2', ' brown'));
    transport.push('TaskOutput', chunk('c2', ' brown'));
    transport.push('TaskOutput', chunk('c1', 'The quick', { reset: true }));
    transport.push('TaskOutput', chunk('c3', ' fox'));
    await shows('output', 'The quick brown fox');
    expect(screen.getByTestId('output')).toBe(paragraph);

    // The attempt fails: its text stays, marked as failed, until the next attempt writes.
    transport.push('TaskUpdated', task(4, { state: 'SCHEDULED', errors: [failedAttempt] }));
    await shows('output-attempt', 'attempt 1 failed');
    expect(screen.getByTestId('output').textContent).toBe('The quick brown fox');
    transport.push('TaskUpdated', task(5, { state: 'ACTIVE', errors: [failedAttempt] }));
    transport.push('TaskOutput', chunk('c4', 'Second', { attempt: 2, reset: true }));
    await shows('output', 'Second');
    expect(screen.getByTestId('output-attempt').textContent).toBe('attempt 2 writing…');
    expect(screen.getByTestId('output')).toBe(paragraph);
    transport.push('TaskOutput', chunk('c5', ' try.', { attempt: 2, final: true }));
    await shows('output', 'Second try.');

    transport.push('TaskUpdated', task(6, { state: 'COMPLETED', result: 'Second try.', progress: 1, errors: [failedAttempt] }));
    await shows('result', 'Second try.');
    expect(screen.queryByTestId('output')).toBeNull();
    expect(transport.operations.filter((operation) => operation.name === 'TaskOutput').every((operation) => operation.closed)).toBe(true);
    unmount();
  });

  it('shows the result of a completed task without following its output', async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    transport.push('TaskUpdated', task(9, { state: 'COMPLETED', result: 'All done.', progress: 1 }));
    await shows('result', 'All done.');
    expect(transport.operations.some((operation) => operation.name === 'TaskOutput')).toBe(false);
    unmount();
  });
});
