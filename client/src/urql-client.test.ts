/**
 * The app's client with the real graphql-ws client over a WebSocket the test plays the server
 * on: after the socket drops, graphql-ws resubscribes by itself, and a resumable subscription
 * (taskOutput) must ask for what comes after the last chunk it received, not for its first
 * variables again.
 */
import { Provider } from '@urql/solid';
import { renderHook } from '@solidjs/testing-library';
import { createComponent, type JSX } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveTasks } from './primitives/create-live-tasks.ts';
import { createTaskOutput } from './primitives/create-task-output.ts';
import { createManualFrames } from './test-support/hand-transport.ts';
import { createAppClient } from './urql-client.ts';

interface Message {
  id?: string;
  type: string;
  payload?: { variables?: Record<string, unknown> } & Record<string, unknown>;
}

/** A WebSocket whose server is the test: it acknowledges connection_init and records the rest. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static opened: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: Message[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeSocket.opened.push(this);
    queueMicrotask(() => {
      this.readyState = FakeSocket.OPEN;
      this.onopen?.({});
    });
  }
  send(data: string) {
    const message = JSON.parse(data) as Message;
    this.sent.push(message);
    if (message.type === 'connection_init') queueMicrotask(() => this.receive({ type: 'connection_ack' }));
  }
  receive(message: Message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  close(code = 1000, reason = '') {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason, wasClean: code === 1000 });
  }
  subscription(operationName: string): Message | undefined {
    return this.sent.find((message) => message.type === 'subscribe' && message.payload?.operationName === operationName);
  }
}

afterEach(() => {
  FakeSocket.opened = [];
});

describe('createAppClient', () => {
  it('resubscribes a resumable subscription after a reconnect with the variables it holds now', async () => {
    const app = createAppClient('http://test.invalid', { webSocketImpl: FakeSocket });
    const frames = createManualFrames();
    const wrapper = (props: { children: JSX.Element }) =>
      createComponent(Provider, {
        value: app.client,
        get children() {
          return props.children;
        },
      });
    const hook = renderHook(() => createTaskOutput({ id: () => 't1', schedule: frames.schedule }), { wrapper });
    const output = hook.result;

    const first = await vi.waitFor(() => {
      const found = FakeSocket.opened[0]?.subscription('TaskOutput');
      if (!found) throw new Error('not subscribed yet');
      return found;
    });
    expect(first.payload!.variables).toEqual({ id: 't1', after: null });
    const send = (socket: FakeSocket, cursor: string, text: string, reset = false) =>
      socket.receive({ id: first.id, type: 'next', payload: { data: { taskOutput: { taskId: 't1', cursor, attempt: 1, text, reset, final: false } } } });
    send(FakeSocket.opened[0]!, 'c1', 'Hello', true);
    send(FakeSocket.opened[0]!, 'c2', ', wor');
    frames.frame();
    expect(output.text()).toBe('Hello, wor');

    // The connection drops (no close frame); graphql-ws reconnects after its backoff.
    FakeSocket.opened[0]!.close(1006, 'gone');
    const again = await vi.waitFor(
      () => {
        const found = FakeSocket.opened[1]?.subscription('TaskOutput');
        if (!found) throw new Error('not resubscribed yet');
        return found;
      },
      { timeout: 5000 },
    );
    expect(again.id).toBe(first.id);
    expect(again.payload!.variables).toEqual({ id: 't1', after: 'c2' });
    send(FakeSocket.opened[1]!, 'c3', 'ld.');
    frames.frame();
    expect(output.text()).toBe('Hello, world.');

    hook.cleanup();
    app.dispose();
  });

  it('tells a live list that its feed is live again after a reconnect, even after task events (urql merges results)', async () => {
    const app = createAppClient('http://test.invalid', { webSocketImpl: FakeSocket });
    const frames = createManualFrames();
    const wrapper = (props: { children: JSX.Element }) =>
      createComponent(Provider, {
        value: app.client,
        get children() {
          return props.children;
        },
      });
    const onLive = vi.fn();
    const onBatch = vi.fn();
    const hook = renderHook(() => createLiveTasks({ onBatch, onLive, schedule: frames.schedule }), { wrapper });
    const subscribed = (socket: number) =>
      vi.waitFor(
        () => {
          const found = FakeSocket.opened[socket]?.subscription('TasksUpdated');
          if (!found) throw new Error('not subscribed yet');
          return found;
        },
        { timeout: 5000 },
      );
    const first = await subscribed(0);
    const live = { id: first.id, type: 'next', payload: { data: null, extensions: { live: true } } };
    FakeSocket.opened[0]!.receive(live);
    const task = { id: 't1', type: 'SUMMARIZE', state: 'COMPLETED', version: 3, progress: 1, retryCount: 0, maxRetries: 3, createdAt: '2026-01-01T12:00:00.000Z', updatedAt: '2026-01-01T12:00:01.000Z', completedAt: '2026-01-01T12:00:01.000Z' };
    FakeSocket.opened[0]!.receive({ id: first.id, type: 'next', payload: { data: { tasksUpdated: task } } });
    frames.frame();
    expect(onBatch).toHaveBeenCalledWith([{ kind: 'update', task }]);
    expect(onLive).not.toHaveBeenCalled();

    FakeSocket.opened[0]!.close(1006, 'gone');
    await subscribed(1);
    // Without liveAwareSink urql would hand this over as the task event again.
    FakeSocket.opened[1]!.receive(live);
    frames.frame();
    expect(onLive).toHaveBeenCalledTimes(1);
    expect(onBatch).toHaveBeenCalledTimes(1);

    hook.cleanup();
    app.dispose();
  });
});
