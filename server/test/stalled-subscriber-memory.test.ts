/**
 * What a subscriber that stops reading costs the server's memory, end to end, with the
 * server's default subscriber limits: the real API server as a child process (its RSS read
 * from /proc), a real worker with the no-op provider, and a client whose TCP socket is paused.
 * - Many events: subscribed to `tasksUpdated { id content result }` while 1,500 tasks with
 *   3 KB contents complete; the baseline is the same run without that client, on a fresh server.
 * - Few, large messages: watches whose every message is far larger than the event it came
 *   from, so the socket fills while no event waits in a queue (the socket's unflushed bytes count).
 * And the other side of the same limits: a client that keeps reading through the 1,500-task
 * burst gets every change with its content, and is never closed as too slow.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { processRssBytes } from '../../chaos/services.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import type { ServerProcess } from '../../test/support/server-process.ts';
import { graphql, metricSample } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const TASKS = 1500;
const CONTENT_BYTES = 3 * 1024;
const SUBMITS_PER_REQUEST = 10;
const MiB = 1024 * 1024;

const system = useSystem({ server: false, worker: { PROVIDER: 'noop', WORKER_CONCURRENCY: '50' } });

const SERVER_ENV = {
  SUBMIT_RATE_LIMIT: 'off',
  LOG_LEVEL: 'warn',
  // graphql-ws pings every WS_KEEPALIVE_MS and drops a socket that does not answer (a paused
  // one cannot): far off here, so that only the subscriber limits close the stalled client.
  WS_KEEPALIVE_MS: '600000',
};

/** Samples the process's RSS every 20 ms; `stop()` answers how far its peak rose over its start. */
function rssGrowth(pid: number) {
  const start = processRssBytes(pid);
  let peak = start;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, processRssBytes(pid));
    } catch {
      // The process is gone: a failed test's teardown killed it before stop().
      clearInterval(timer);
    }
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, processRssBytes(pid));
      return peak - start;
    },
  };
}

const contentOf = (n: number) => `Task ${n}. ${'Lorem ipsum dolor sit amet, consectetur. '.repeat(80)}`.slice(0, CONTENT_BYTES);

const completedCount = async (server: ServerProcess) =>
  (await graphql<{ tasks: { totalCount: number } }>(server, 'query { tasks(state: COMPLETED, first: 1) { totalCount } }')).data?.tasks.totalCount ?? 0;

/** Submits TASKS tasks (10 per request, 4 requests at a time) and waits until all of them are COMPLETED. */
async function submitAndComplete(server: ServerProcess): Promise<void> {
  const completed = (await completedCount(server)) + TASKS;
  const variables = Array.from({ length: SUBMITS_PER_REQUEST }, (_, i) => `$c${i}: String!`).join(', ');
  const submits = Array.from({ length: SUBMITS_PER_REQUEST }, (_, i) => `t${i}: submitTask(input: {content: $c${i}}) { id }`).join(' ');
  const mutation = `mutation (${variables}) { ${submits} }`;
  let next = 0;
  const lane = async () => {
    while (next < TASKS) {
      const first = next;
      next += SUBMITS_PER_REQUEST;
      const contents = Object.fromEntries(Array.from({ length: SUBMITS_PER_REQUEST }, (_, i) => [`c${i}`, contentOf(first + i)]));
      const answer = await graphql(server, mutation, contents);
      if (answer.errors) throw new Error(`submitting failed: ${JSON.stringify(answer.errors)}`);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  await waitFor(async () => (await completedCount(server)) >= completed, { timeoutMs: 45_000, intervalMs: 100, message: `${completed} tasks to complete` });
}

interface TaskChange {
  id: string;
  version: number;
  state: string;
  content: string;
  result: string | null;
}

interface Message {
  id?: string;
  type: string;
  payload?: { extensions?: { live?: boolean }; data?: { tasksUpdated?: TaskChange } };
}

/** A graphql-transport-ws client, acknowledged, recording what it reads. */
async function openSocket(server: ServerProcess) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const messages: Message[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Message));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  await waitFor(() => messages.some((message) => message.type === 'connection_ack'), { message: 'connection_ack' });
  const subscribe = (id: string, query: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
  return { socket, messages, closed, subscribe };
}

const slowSubscribersClosed = async (server: ServerProcess) => (await metricSample(server, 'atf_ws_slow_subscribers_closed_total')) ?? 0;

describe('a subscriber whose socket stops reading', () => {
  it(`is closed, and grows the server's RSS by less than 20 MB over the same ${TASKS} tasks without it`, { timeout: 120_000 }, async () => {
    const baseline = await system.spawnServer(SERVER_ENV);
    const baselineRss = rssGrowth(baseline.pid);
    await submitAndComplete(baseline);
    const withoutGrowth = baselineRss.stop();
    baseline.signal('SIGKILL');
    await baseline.exited;

    const server = await system.spawnServer(SERVER_ENV);
    const { socket, messages, closed, subscribe } = await openSocket(server);
    subscribe('feed', 'subscription { tasksUpdated { id content result } }');
    await waitFor(() => messages.some((message) => message.type === 'next' && message.payload?.extensions?.live), { message: 'the feed to be live' });
    socket.pause();
    const stalledRss = rssGrowth(server.pid);
    await submitAndComplete(server);
    const withGrowth = stalledRss.stop();
    await waitFor(async () => (await slowSubscribersClosed(server)) === 1, { message: 'the server to close the stalled client' });
    console.log(`server RSS growth over ${TASKS} tasks: ${(withoutGrowth / MiB).toFixed(1)} MB without, ${(withGrowth / MiB).toFixed(1)} MB with a stalled subscriber`);
    expect(withGrowth - withoutGrowth).toBeLessThan(20 * MiB);

    // The client reads again: what the server had sent before it gave up, then the close.
    socket.resume();
    expect(await closed).toBe(4480);
  });

  it('is closed, and grows its RSS by less than 20 MB, when a few messages built from small events fill its socket', async () => {
    const server = await system.spawnServer(SERVER_ENV);
    // 60 KB of content selected 29 times over (aliases): each watch's snapshot is one 1.7 MB
    // message built from one small record, and nothing ever waits in a queue. Fifty of them are
    // 87 MB, which the server would hold for a client that never reads.
    const answer = await graphql<{ submitTask: { id: string } }>(server, 'mutation ($content: String!) { submitTask(input: {content: $content}) { id } }', {
      content: `${'Lorem ipsum dolor sit amet. '.repeat(2140)}The end.`,
    });
    const taskId = answer.data!.submitTask.id;
    const contents = Array.from({ length: 29 }, (_, i) => `c${i}: content`).join(' ');
    const watch = `subscription { taskUpdated(id: "${taskId}") { version ${contents} } }`;
    // A client that reads takes a few such messages first, so what is measured below is what the
    // stalled socket holds, not a fresh server compiling the query and sizing its heap for 1.7 MB
    // strings (on a loaded machine that warm-up alone once read 23 MB).
    const reader = await openSocket(server);
    for (let i = 0; i < 3; i += 1) reader.subscribe(`warm${i}`, watch);
    await waitFor(() => reader.messages.filter((message) => message.type === 'next').length >= 3, { message: 'the reading client to get its messages' });
    reader.socket.close();
    await reader.closed;
    const { socket, messages, closed, subscribe } = await openSocket(server);
    socket.pause();
    const rss = rssGrowth(server.pid);
    const watches = 50;
    for (let i = 0; i < watches; i += 1) subscribe(`w${i}`, watch);
    await waitFor(async () => (await slowSubscribersClosed(server)) === 1, { message: 'the server to close the stalled client' });
    const growth = rss.stop();
    console.log(`server RSS growth for ${watches} watches of 1.7 MB messages on a stalled socket: ${(growth / MiB).toFixed(1)} MB`);
    expect(growth).toBeLessThan(20 * MiB);

    socket.resume();
    expect(await closed).toBe(4480);
    expect(messages.filter((message) => message.type === 'next').length).toBeLessThan(watches);
  });
});

describe('a subscriber that keeps reading', () => {
  it(`gets every change of ${TASKS} tasks completing at once, with their contents, and is never closed as too slow`, { timeout: 90_000 }, async () => {
    const server = await system.spawnServer(SERVER_ENV);
    const { socket, messages, subscribe } = await openSocket(server);
    let closeCode: number | null = null;
    socket.once('close', (code) => (closeCode = code));
    subscribe('feed', 'subscription { tasksUpdated { id version state content result } }');
    await waitFor(() => messages.some((message) => message.type === 'next' && message.payload?.extensions?.live), { message: 'the feed to be live' });
    await submitAndComplete(server);

    const changes = () => messages.flatMap((message) => message.payload?.data?.tasksUpdated ?? []);
    const completedSeen = () => new Set(changes().filter((change) => change.state === 'COMPLETED').map((change) => change.id)).size;
    await waitFor(() => completedSeen() === TASKS || closeCode !== null, { timeoutMs: 30_000, message: `the client to see ${TASKS} tasks complete` });
    expect(closeCode).toBeNull();
    expect(await slowSubscribersClosed(server)).toBe(0);
    // Every change, each with its task's content: per task, versions 1 to its last with no gap.
    const versions = new Map<string, number[]>();
    for (const change of changes()) {
      expect(change.content).toMatch(/^Task \d+\. Lorem ipsum/);
      expect(change.content).toHaveLength(CONTENT_BYTES);
      versions.set(change.id, [...(versions.get(change.id) ?? []), change.version]);
    }
    expect(versions.size).toBe(TASKS);
    for (const seen of versions.values()) expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    socket.close();
  });
});
