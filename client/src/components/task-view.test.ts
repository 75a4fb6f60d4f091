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
    priority: 'NORMAL',
    waitReason: null,
    queuePosition: null,
    estimatedStartAt: null,
    standingAt: null,
    traceId: null,
    usage: null,
    errors: [],
    history: [],
    ...patch,
  },
});
const failedAttempt = { errorClass: 'SERVICE_UNAVAILABLE' as const, message: 'HTTP 503', httpStatus: 503, attempt: 1, at: '2026-01-01T12:00:02.000Z', nextAttemptAt: null };

const chunk = (cursor: string, text: string, patch: Partial<OutputChunk> = {}): { taskOutput: OutputChunk } => ({
  taskOutput: { taskId: 't1', cursor, attempt: 1, text, reset: false, final: false, model: null, ...patch },
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

describe('TaskView model chain', () => {
  const step = (state: TaskDetailFieldsFragment['state'], version: number, patch: Partial<TaskDetailFieldsFragment['history'][number]> = {}) => ({
    state,
    at: `2026-01-01T12:00:0${version}.000Z`,
    workerId: 'w1',
    reason: null,
    version,
    model: null,
    chainIndex: null,
    switchReason: null,
    ...patch,
  });
  const call = (attempt: number, model: string, chainIndex: number, switchReason: 'STREAM_BROKEN' | null) => ({
    attempt,
    model,
    chainIndex,
    switchReason,
    generationId: `gen-${attempt}`,
    promptTokens: 100,
    completionTokens: 20,
    costUsd: 0.0002,
    estimated: attempt === 1,
    at: `2026-01-01T12:00:0${attempt + 2}.000Z`,
  });

  it("names the model writing, starts over on the next model after a reset, and shows each attempt's model in the timeline and the calls", async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    transport.push('TaskUpdated', task(3));
    await transport.opened('TaskOutput');
    transport.push('TaskOutput', chunk('1-1', 'The quick', { reset: true, model: 'acme/primary' }));
    transport.push('TaskOutput', chunk('1-2', ' brown'));
    await shows('output', 'The quick brown');
    expect(screen.getByTestId('output-attempt').textContent).toBe('attempt 1 writing… on acme/primary');

    // The stream broke: the next attempt's first chunk starts the text over, on the fallback.
    transport.push('TaskUpdated', task(5, { state: 'ACTIVE' }));
    transport.push('TaskOutput', chunk('2-1', 'A fox', { attempt: 2, reset: true, model: 'acme/fallback' }));
    await shows('output', 'A fox');
    expect(screen.getByTestId('output-model').textContent).toBe('acme/fallback');

    const history = [
      step('PENDING', 1),
      step('ACTIVE', 2, { reason: 'claimed' }),
      step('PENDING', 4, { reason: 'switched model', model: 'acme/primary', chainIndex: 0, switchReason: 'STREAM_BROKEN' }),
      step('ACTIVE', 5, { reason: 'claimed' }),
      step('COMPLETED', 6, { reason: 'completed', model: 'acme/fallback', chainIndex: 1 }),
    ];
    const usage = { model: 'acme/fallback', promptTokens: 200, completionTokens: 40, totalTokens: 240, costUsd: 0.0004, cachedTokens: 0, reasoningTokens: 0, calls: 2, estimated: true };
    const perCall = [call(1, 'acme/primary', 0, null), call(2, 'acme/fallback', 1, 'STREAM_BROKEN')];
    transport.push('TaskUpdated', task(6, { state: 'COMPLETED', result: 'A fox ran.', progress: 1, history, usage: { ...usage, perCall } }));
    await shows('result', 'A fox ran.');
    expect(screen.getAllByTestId('step-model').map((node) => node.textContent)).toEqual(['acme/primary', 'acme/fallback']);
    expect(screen.getAllByTestId('step-chain').map((node) => node.textContent)).toEqual(['(primary)', '(fallback 1)']);
    expect(screen.getAllByTestId('step-switch').map((node) => node.textContent)).toEqual(['next model: stream broke']);
    expect(screen.getAllByTestId('call-model').map((node) => node.textContent)).toEqual(['acme/primary', 'acme/fallback']);
    const rows = [...screen.getByTestId('usage-calls').querySelectorAll('tbody tr')].map((row) => [...row.querySelectorAll('td')].slice(0, 4).map((cell) => cell.textContent));
    expect(rows).toEqual([
      ['1', 'acme/primary', 'primary', '—'],
      ['2', 'acme/fallback', 'fallback 1', 'stream broke'],
    ]);
    unmount();
  });

  it('leaves the chain place out while the model stays the same, and shows no calls table without calls', async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    const history = [step('SCHEDULED', 3, { reason: 'SERVICE_UNAVAILABLE', model: 'm/a', chainIndex: 0 }), step('COMPLETED', 5, { reason: 'completed', model: 'm/a', chainIndex: 0 })];
    transport.push('TaskUpdated', task(5, { state: 'COMPLETED', result: 'Done.', progress: 1, history }));
    await shows('result', 'Done.');
    expect(screen.getAllByTestId('step-model')).toHaveLength(2);
    expect(screen.getAllByTestId('step-chain')).toHaveLength(1);
    expect(screen.queryByTestId('usage-calls')).toBeNull();
    unmount();
  });
});

describe('TaskView cost', () => {
  it("shows the task's cost, calls, model and tokens, marked estimated when a call was cut off", async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    const usage = { model: 'openai/gpt-4o-mini', promptTokens: 1200, completionTokens: 80, totalTokens: 1280, costUsd: 0.0123, cachedTokens: 0, reasoningTokens: 40, calls: 2, estimated: true, perCall: [] };
    transport.push('TaskUpdated', task(9, { state: 'COMPLETED', result: 'Done.', progress: 1, usage }));
    await shows('cost-usd', '$0.0123');
    expect(screen.getByTestId('cost').textContent).toBe('$0.0123 estimated · 2 calls');
    expect(screen.getByTestId('usage').textContent).toBe('openai/gpt-4o-mini');
    // Cached tokens are left out when there are none; reasoning tokens show.
    expect(screen.getByTestId('tokens').textContent).toBe('1,280 tokens (1,200 prompt, 80 completion, 40 reasoning)');

    transport.push('TaskUpdated', task(10, { state: 'COMPLETED', result: 'Done.', progress: 1, usage: { ...usage, estimated: false, cachedTokens: 600, calls: 1 } }));
    await shows('cost', '$0.0123 · 1 call');
    expect(screen.queryByTestId('cost-estimated')).toBeNull();
    expect(screen.getByTestId('tokens').textContent).toBe('1,280 tokens (1,200 prompt, 80 completion, 600 cached, 40 reasoning)');
    unmount();
  });

  it('says the cost was not recorded for a task from before calls were recorded, and shows nothing without usage', async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    transport.push('TaskUpdated', task(3));
    await vi.waitFor(() => expect(screen.getByTestId('version').textContent).toBe('3'));
    expect(screen.queryByTestId('cost')).toBeNull();
    const legacy = { model: 'm/a', promptTokens: 10, completionTokens: 5, totalTokens: 15, costUsd: null, cachedTokens: null, reasoningTokens: null, calls: 1, estimated: false, perCall: [] };
    transport.push('TaskUpdated', task(4, { state: 'COMPLETED', result: 'Done.', usage: legacy }));
    await shows('cost', 'not recorded · 1 call');
    expect(screen.getByTestId('tokens').textContent).toBe('15 tokens (10 prompt, 5 completion)');
    unmount();
  });
});

describe('TaskView standing', () => {
  const waiting = (standingAt: string, patch: Partial<TaskDetailFieldsFragment>) =>
    task(2, { state: 'PENDING', startedAt: null, workerId: null, progress: 0, priority: 'HIGH', waitReason: 'QUEUED', standingAt, ...patch });

  it('shows why a task waits, how many tasks start first and when it should start, live at the same version', async () => {
    const { transport, unmount } = setup();
    await transport.opened('TaskUpdated');
    const soon = new Date(Date.now() + 42_000).toISOString();
    transport.push('TaskUpdated', waiting('2026-01-01T12:00:10.000Z', { queuePosition: 12, estimatedStartAt: soon }));
    await shows('queue-position', '12 tasks ahead');
    expect(screen.getByTestId('priority').textContent).toBe('High');
    expect(screen.getByTestId('wait-reason').textContent).toBe('Queued behind other tasks');
    expect(screen.getByTestId('estimated-start').textContent).toMatch(/^in 4[12] s \(estimate\)$/);

    // Same version, a later standing: it replaces the one shown; an earlier one arriving late does not.
    transport.push('TaskUpdated', waiting('2026-01-01T12:00:11.000Z', { queuePosition: 1, estimatedStartAt: null }));
    await shows('queue-position', '1 task ahead');
    expect(screen.queryByTestId('estimated-start')).toBeNull();
    transport.push('TaskUpdated', waiting('2026-01-01T12:00:10.500Z', { queuePosition: 7 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.getByTestId('queue-position').textContent).toBe('1 task ahead');
    transport.push('TaskUpdated', waiting('2026-01-01T12:00:12.000Z', { queuePosition: 0 }));
    await shows('queue-position', 'next');

    // Its tenant paused: the reason, and no position.
    transport.push('TaskUpdated', waiting('2026-01-01T12:00:13.000Z', { waitReason: 'TENANT_PAUSED', queuePosition: null }));
    await shows('wait-reason', 'Its tenant is paused');
    expect(screen.getByTestId('wait-reason').getAttribute('data-wait-reason')).toBe('TENANT_PAUSED');
    expect(screen.queryByTestId('queue-position')).toBeNull();

    // It starts: a new version with no standing.
    transport.push('TaskUpdated', task(3, { priority: 'HIGH' }));
    await vi.waitFor(() => expect(screen.queryByTestId('wait-reason')).toBeNull());
    expect(screen.getByTestId('version').textContent).toBe('3');
    unmount();
  });
});
