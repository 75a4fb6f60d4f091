/**
 * What one WebSocket subscriber may cost the server, over a real socket against a real server
 * and Redis: a client that stops reading is closed (4480) instead of buffered for without
 * bound, whether its events wait in the server's queues or in its socket, and
 * subscribe/unsubscribe churn leaves no Redis channel subscriptions behind.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { useSystem } from '../../test/support/fixtures.ts';
import { graphql, metricSample, SAMPLE_TEXT, submitTask, subscribe } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const MAX_BYTES = 1024 * 1024;

const system = useSystem({ server: { WS_SUBSCRIBER_MAX_BYTES: String(MAX_BYTES), WS_SUBSCRIBER_MAX_EVENTS: '10000' } });
const { keys } = system;

/** A raw graphql-transport-ws socket, acknowledged; resolves once it is ready for subscribe frames. */
async function openSocket(): Promise<{ socket: WebSocket; messages: { id?: string; type: string; payload?: unknown }[]; closed: Promise<number> }> {
  const socket = new WebSocket(system.server.wsUrl, 'graphql-transport-ws');
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  await waitFor(() => messages.some((message) => message.type === 'connection_ack'), { message: 'connection_ack' });
  return { socket, messages, closed };
}

/** The event the scripts published for a task's creation, with a large result: a busy feed. */
async function largeChangeMessage(taskId: string, bytes: number, version?: number): Promise<string> {
  const [entry] = await system.redis.client.xrange(keys.taskEvents(taskId), '-', '+', 'COUNT', 1);
  const fields = entry![1];
  const task = JSON.parse(fields[fields.indexOf('task') + 1]!) as Record<string, string>;
  return JSON.stringify({ ...task, result: 'x'.repeat(bytes), ...(version ? { version: String(version) } : {}) });
}

/** Channel subscriptions the server's subscriber connection holds right now. */
async function serverChannelSubscriptions(): Promise<number> {
  const clients = String(await system.redis.client.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  return clients
    .split('\n')
    .filter((line) => line.includes('name=atf-server-sub'))
    .reduce((sum, line) => sum + Number(/\bsub=(\d+)/.exec(line)?.[1] ?? 0) + Number(/\bpsub=(\d+)/.exec(line)?.[1] ?? 0), 0);
}

describe('a subscriber that stops reading', () => {
  // The server logs the subscription it ends at error level (as an unexpected resolver error).

  it('is closed with 4480 once it falls WS_SUBSCRIBER_MAX_BYTES behind, and is sent nothing more', async () => {
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const { socket, messages, closed } = await openSocket();
    socket.send(JSON.stringify({ id: 'feed', type: 'subscribe', payload: { query: 'subscription { tasksUpdated { id result } }' } }));
    // The feed's first message says it is live.
    await waitFor(() => messages.some((message) => message.type === 'next' && (message.payload as { extensions?: { live?: boolean } } | undefined)?.extensions?.live === true), {
      message: 'the feed to be live',
    });

    // The client stops reading; the feed goes on: 100 events of 128 KiB, far past what the
    // kernel's socket buffers (several MiB on loopback) and the backlog hold.
    socket.pause();
    const event = await largeChangeMessage(task.id, 128 * 1024);
    const published = 100;
    for (let i = 0; i < published; i += 1) await system.redis.client.publish(keys.tasksChannel(), event);

    // The client reads again: what the server had sent before it gave up, then the close.
    socket.resume();
    expect(await closed).toBe(4480);
    const delivered = messages.filter((message) => message.type === 'next').length;
    expect(delivered).toBeLessThan(published);
  });

  it('is closed with 4480 once what its socket has not flushed passes WS_SUBSCRIBER_MAX_BYTES, with nothing queued', async () => {
    // 60 KB of content, selected 29 times over (aliases): each snapshot is a 1.7 MB message
    // built from one small record. Twenty of them are 35 MB, far past the kernel's buffers.
    const task = await submitTask(system.server, `${'Lorem ipsum dolor sit amet. '.repeat(2140)}The end.`);
    const contents = Array.from({ length: 29 }, (_, i) => `c${i}: content`).join(' ');
    const closedBefore = (await metricSample(system.server, 'atf_ws_slow_subscribers_closed_total')) ?? 0;
    const { socket, messages, closed } = await openSocket();
    socket.pause();
    const watches = 20;
    for (let i = 0; i < watches; i += 1) {
      socket.send(JSON.stringify({ id: `w${i}`, type: 'subscribe', payload: { query: `subscription { taskUpdated(id: "${task.id}") { version ${contents} } }` } }));
    }
    // No event is ever queued (each watch sends its snapshot and waits): only the socket's
    // unflushed bytes can tell that this client stopped reading.
    await waitFor(async () => (await metricSample(system.server, 'atf_ws_slow_subscribers_closed_total')) === closedBefore + 1, {
      message: 'the server to close the stalled connection',
    });

    socket.resume();
    expect(await closed).toBe(4480);
    expect(messages.filter((message) => message.type === 'next').length).toBeLessThan(watches);
  });

  it('lets a taskUpdated subscriber resume with afterVersion after the close, missing nothing', async () => {
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const { socket, messages, closed } = await openSocket();
    socket.send(JSON.stringify({ id: 'watch', type: 'subscribe', payload: { query: `subscription { taskUpdated(id: "${task.id}") { version result } }` } }));
    await waitFor(() => messages.some((message) => message.type === 'next'), { message: 'the snapshot' });
    socket.pause();
    // Published changes only (no stream entries): the watch sends each, as a newer version.
    for (let i = 0; i < 100; i += 1) await system.redis.client.publish(keys.tasksChannel(), await largeChangeMessage(task.id, 128 * 1024, 1000 + i));
    socket.resume();
    expect(await closed).toBe(4480);

    // The next real change, then a watch resumed from the last real version the client saw.
    expect((await graphql(system.server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id: task.id })).errors).toBeUndefined();
    const resumed = subscribe<{ version: number; state: string }>(system.wsClient(), 'subscription ($id: ID!) { taskUpdated(id: $id, afterVersion: 1) { version state } }', { id: task.id }, 'taskUpdated');
    await resumed.waitFor((update) => update.state === 'CANCELLED');
    expect(resumed.events.map((update) => update.version)).toEqual([2]);
    resumed.dispose();
  });
});

describe('subscribe and unsubscribe churn', () => {
  it('leaves no Redis channel subscription behind: watches share one subscription per server', async () => {
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const { socket, messages } = await openSocket();
    // 5,000 watches of distinct tasks (missing ones mostly: each still reaches the event bus),
    // each stopped as soon as it was asked for.
    for (let i = 0; i < 5000; i += 1) {
      const id = i % 10 === 0 ? task.id : randomUUID();
      socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: `subscription { taskUpdated(id: "${id}") { version } }` } }));
      socket.send(JSON.stringify({ id: `s${i}`, type: 'complete' }));
    }
    // A watch asked for after the churn answers: the churn was handled.
    socket.send(JSON.stringify({ id: 'after', type: 'subscribe', payload: { query: `subscription { taskUpdated(id: "${task.id}") { version } }` } }));
    await waitFor(() => messages.some((message) => message.id === 'after' && message.type === 'next'), { timeoutMs: 30_000, message: 'the watch after the churn' });

    // Right away, not seconds later: there is nothing to drain. One channel carries every
    // task's events; the others are the hint channels of the shared feeds.
    expect(await serverChannelSubscriptions()).toBeLessThanOrEqual(3);
    socket.close();
  });
});
