/**
 * createTaskOutput driven by hand: chunks pushed into the subscription, frames run by the
 * test, reconnects read from the payload the app's graphql-ws client would resend.
 */
import { Provider } from '@urql/solid';
import { renderHook } from '@solidjs/testing-library';
import { createComponent, createSignal, type JSX } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { createHandTransport, createManualFrames } from '../test-support/hand-transport.ts';
import { createTaskOutput } from './create-task-output.ts';
import type { OutputChunk } from './output-merge.ts';

const chunk = (cursor: string, text: string, patch: Partial<OutputChunk> = {}): { taskOutput: OutputChunk } => ({
  taskOutput: { taskId: 't1', cursor, attempt: 1, text, reset: false, final: false, model: null, ...patch },
});

function setup(initial: { id?: string; live?: boolean } = {}) {
  const transport = createHandTransport();
  const frames = createManualFrames();
  const [id, setId] = createSignal(initial.id ?? 't1');
  const [live, setLive] = createSignal(initial.live ?? true);
  const wrapper = (props: { children: JSX.Element }) =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return props.children;
      },
    });
  const hook = renderHook(() => createTaskOutput({ id, live, schedule: frames.schedule }), { wrapper });
  const operations = () => transport.operations.filter((operation) => operation.name === 'TaskOutput');
  return { transport, frames, output: hook.result, setId, setLive, operations, cleanup: hook.cleanup };
}

describe('createTaskOutput', () => {
  it('starts from the beginning and grows the text once per frame, each chunk once', async () => {
    const { transport, frames, output, cleanup } = setup();
    const operation = await transport.opened('TaskOutput');
    expect(operation.variables).toEqual({ id: 't1', after: null });

    transport.push('TaskOutput', chunk('c1', 'The ', { reset: true }));
    transport.push('TaskOutput', chunk('c2', 'quick '));
    expect(output.text()).toBe('');
    frames.frame();
    expect(output.text()).toBe('The quick ');
    expect(output.attempt()).toBe(1);

    transport.push('TaskOutput', chunk('c2', 'quick '));
    transport.push('TaskOutput', chunk('c3', 'fox.'));
    frames.frame();
    expect(output.text()).toBe('The quick fox.');
    expect(output.cursor()).toBe('c3');
    cleanup();
  });

  it('resubscribes after a reconnect with the last cursor received, even before the frame applied it', async () => {
    const { transport, frames, cleanup } = setup();
    const operation = await transport.opened('TaskOutput');
    expect(operation.resentVariables()).toEqual({ id: 't1', after: null });
    transport.push('TaskOutput', chunk('c1', 'a', { reset: true }));
    frames.frame();
    transport.push('TaskOutput', chunk('c2', 'b'));
    expect(operation.resentVariables()).toEqual({ id: 't1', after: 'c2' });
    // urql itself still holds the first variables: the resume goes through the payload.
    expect(operation.variables).toEqual({ id: 't1', after: null });
    cleanup();
  });

  it('keeps the text while not live, then resumes after the last cursor and follows a new attempt', async () => {
    const { transport, frames, output, setLive, operations, cleanup } = setup();
    await transport.opened('TaskOutput');
    transport.push('TaskOutput', chunk('c1', 'first try', { reset: true }));
    frames.frame();
    setLive(false);
    expect(operations().every((operation) => operation.closed)).toBe(true);
    expect(output.text()).toBe('first try');

    setLive(true);
    const resumed = await transport.opened('TaskOutput');
    expect(resumed.variables).toEqual({ id: 't1', after: 'c1' });
    transport.push('TaskOutput', chunk('c2', 'Second', { attempt: 2, reset: true }));
    frames.frame();
    expect(output.text()).toBe('Second');
    expect(output.attempt()).toBe(2);
    cleanup();
  });

  it('does not start a stream the server ended while the task stays live', async () => {
    const { transport, frames, output, operations, cleanup } = setup();
    await transport.opened('TaskOutput');
    transport.push('TaskOutput', chunk('c1', 'Done.', { reset: true, final: true }));
    transport.complete('TaskOutput');
    frames.frame();
    await Promise.resolve();
    expect(operations()).toHaveLength(1);
    expect(output.final()).toBe(true);
    expect(output.text()).toBe('Done.');
    cleanup();
  });

  it('opens nothing while not live', async () => {
    const { operations, setLive, transport, cleanup } = setup({ live: false });
    await Promise.resolve();
    expect(operations()).toHaveLength(0);
    setLive(true);
    expect((await transport.opened('TaskOutput')).variables).toEqual({ id: 't1', after: null });
    cleanup();
  });

  it('starts over for another task, ignoring what was still pending for the first', async () => {
    const { transport, frames, output, setId, cleanup } = setup();
    await transport.opened('TaskOutput');
    transport.push('TaskOutput', chunk('c1', 'one', { reset: true }));
    frames.frame();
    transport.push('TaskOutput', chunk('c2', ' more'));
    setId('t2');
    const other = await transport.opened('TaskOutput');
    expect(other.variables).toEqual({ id: 't2', after: null });
    expect(output.text()).toBe('');
    transport.push('TaskOutput', chunk('d1', 'two', { taskId: 't2', reset: true }));
    frames.frame();
    expect(output.text()).toBe('two');
    expect(other.resentVariables()).toEqual({ id: 't2', after: 'd1' });
    cleanup();
  });
});
