/**
 * Live output end to end: a real server and worker, real Redis, and the fake OpenRouter on
 * loopback streaming its answer slowly. Chunks arrive while the model writes, resume from a
 * cursor, reset on a new attempt, stop with a cancel, and add up to the result exactly.
 */
import type { Client } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { defaultAnswer, streamedAnswer } from '../../tools/fake-openrouter.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { assembleOutput as assemble, graphql, SAMPLE_TEXT, submitTask, subscribe, waitForTask, type OutputChunk as Chunk } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const CHUNK_FIELDS = 'taskId cursor attempt text reset final';
const OUTPUT = `subscription ($id: ID!, $after: String) { taskOutput(id: $id, after: $after) { ${CHUNK_FIELDS} } }`;
const LONG_ANSWER = 'Redis keeps data in memory and writes it to disk in the background. '.repeat(6).trim();

const system = useSystem({
  fake: true,
  server: { MAX_RETRIES: '3', SUBSCRIPTION_RESYNC_MS: '1000' },
  worker: { PROVIDER_TIMEOUT_MS: '20000', OUTPUT_FLUSH_MS: '10', OUTPUT_FLUSH_CHARS: '64', CIRCUIT_VOLUME_THRESHOLD: '100000' },
});

function watchOutput(client: Client, id: string, after: string | null = null) {
  const feed = subscribe<Chunk>(client, OUTPUT, { id, after }, 'taskOutput');
  const push = feed.events.push.bind(feed.events);
  feed.events.push = (...chunks: Chunk[]) => push(...chunks.map((chunk) => ({ ...chunk, at: Date.now() })));
  return feed;
}

const finished = (id: string) => waitForTask(system.server, id, ['COMPLETED', 'DLQ', 'CANCELLED'], { timeoutMs: 20_000 });
const outputOf = async (id: string) =>
  (await graphql<{ task: { output: string | null } }>(system.server, 'query ($id: ID!) { task(id: $id) { output } }', { id })).data!.task.output;

describe('taskOutput', () => {
  it('streams the text while the model writes it, and it adds up to the result', async () => {
    const { fake, server } = system;
    fake.script((request) => streamedAnswer(request, { chunks: 30, delayMs: 40, text: LONG_ANSWER }));
    const client = system.wsClient();
    const task = await submitTask(server, SAMPLE_TEXT);
    const feed = watchOutput(client, task.id);
    await waitFor(() => feed.completed, { timeoutMs: 20_000, message: 'the feed to complete' });
    expect(feed.errors).toEqual([]);
    const done = await finished(task.id);
    expect(done.result).toBe(LONG_ANSWER);
    expect(assemble(feed.events)).toBe(done.result);
    expect(feed.events.filter((chunk) => chunk.final)).toHaveLength(1);
    expect(feed.events.at(-1)!.final).toBe(true);
    expect(feed.events[0]!.reset).toBe(true);
    // Progressive: many chunks, the first well before the last (30 pieces 40 ms apart).
    expect(feed.events.length).toBeGreaterThan(5);
    expect(feed.events.at(-1)!.at! - feed.events[0]!.at!).toBeGreaterThan(500);
    const output = await graphql<{ task: { output: string } }>(server, 'query ($id: ID!) { task(id: $id) { output } }', { id: task.id });
    expect(output.data!.task.output).toBe(LONG_ANSWER);
  });

  it('resumes after a dropped connection from the last cursor, with no chunk missed or repeated', async () => {
    const { fake } = system;
    fake.script((request) => streamedAnswer(request, { chunks: 30, delayMs: 40, text: LONG_ANSWER }));
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const first = system.wsClient();
    const before = watchOutput(first, task.id);
    await waitFor(() => before.events.length >= 4, { timeoutMs: 20_000, message: 'a few chunks' });
    await first.dispose();
    const seen = [...before.events];
    // More is written while nobody is connected: the resume must read it back from the stream.
    await waitFor(async () => ((await outputOf(task.id)) ?? '').length > assemble(seen).length, { message: 'output written while disconnected' });
    const second = system.wsClient();
    const after = watchOutput(second, task.id, seen.at(-1)!.cursor);
    await waitFor(() => after.completed, { timeoutMs: 20_000, message: 'the resumed feed to complete' });
    const all = [...seen, ...after.events];
    expect(new Set(all.map((chunk) => chunk.cursor)).size).toBe(all.length);
    expect(assemble(all)).toBe((await finished(task.id)).result);
  });

  it('resumes on another API server after the first one stopped mid-stream', async () => {
    const { fake, server } = system;
    fake.script((request) => streamedAnswer(request, { chunks: 30, delayMs: 40, text: LONG_ANSWER }));
    const first = await system.startServer();
    const task = await submitTask(server, SAMPLE_TEXT);
    const client = system.wsClient(first);
    const before = watchOutput(client, task.id);
    await waitFor(() => before.events.length >= 3, { timeoutMs: 20_000, message: 'a few chunks from the first server' });
    const seen = [...before.events];
    await first.stop();
    await client.dispose();
    const other = system.wsClient(server);
    const after = watchOutput(other, task.id, seen.at(-1)!.cursor);
    await waitFor(() => after.completed, { timeoutMs: 20_000, message: 'the resumed feed to complete' });
    const all = [...seen, ...after.events];
    expect(new Set(all.map((chunk) => chunk.cursor)).size).toBe(all.length);
    expect(assemble(all)).toBe((await finished(task.id)).result);
  });

  it('starts over on the next attempt after a stream breaks, and ends with the result', async () => {
    const { fake, server } = system;
    let calls = 0;
    fake.script((request) => {
      calls += 1;
      const answer = streamedAnswer(request, { chunks: 20, delayMs: 30, text: calls === 1 ? `Broken ${LONG_ANSWER}` : LONG_ANSWER });
      return calls === 1 ? { ...answer, breakAfterEvents: 10 } : answer;
    });
    const client = system.wsClient();
    const task = await submitTask(server, SAMPLE_TEXT);
    const feed = watchOutput(client, task.id);
    await waitFor(() => feed.completed, { timeoutMs: 20_000, message: 'the feed to complete' });
    const done = await finished(task.id);
    expect(done.state).toBe('COMPLETED');
    expect(done.errors.map((error) => error.errorClass)).toEqual(['PROVIDER_ERROR']);
    const attempts = [...new Set(feed.events.map((chunk) => chunk.attempt))];
    expect(attempts).toEqual([1, 2]);
    expect(feed.events.find((chunk) => chunk.attempt === 1)!.text.startsWith('Broken')).toBe(true);
    expect(feed.events.find((chunk) => chunk.attempt === 2)!.reset).toBe(true);
    expect(assemble(feed.events)).toBe(done.result);

    // A late joiner reads only the attempt that became the result.
    const late = watchOutput(client, task.id);
    await waitFor(() => late.completed, { message: 'the late feed to complete' });
    expect(late.events.every((chunk) => chunk.attempt === 2)).toBe(true);
    expect(late.events.at(-1)!.final).toBe(true);
    expect(assemble(late.events)).toBe(done.result);
  });

  it('aborts the provider call on cancel and ends the feed', async () => {
    const { fake, server } = system;
    fake.script((request) => streamedAnswer(request, { chunks: 40, delayMs: 50, text: LONG_ANSWER }));
    const client = system.wsClient();
    const before = fake.requests.length;
    const task = await submitTask(server, SAMPLE_TEXT);
    const feed = watchOutput(client, task.id);
    await waitFor(() => feed.events.length >= 2, { timeoutMs: 20_000, message: 'a few chunks' });
    const cancelled = await graphql<{ cancelTask: { state: string } }>(server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id: task.id });
    expect(cancelled.data?.cancelTask.state).toBe('CANCELLED');
    await waitFor(() => feed.completed, { message: 'the feed to end' });
    expect(feed.events.some((chunk) => chunk.final)).toBe(false);
    const call = fake.requests.slice(before).find((request) => request.path.endsWith('/chat/completions'))!;
    await waitFor(() => call.abortedAt !== undefined, { message: 'the provider to see the connection closed' });
    // 40 pieces plus the keep-alive, the end and [DONE]: it hung up well before the last.
    expect(call.eventsSent!).toBeLessThan(40);
    // What was written stays readable.
    const output = await graphql<{ task: { output: string | null } }>(server, 'query ($id: ID!) { task(id: $id) { output } }', { id: task.id });
    expect(LONG_ANSWER.startsWith(output.data!.task.output!)).toBe(true);
  });

  it('gives 200 subscribers of one task the same text', async () => {
    const { fake, server } = system;
    fake.script((request) => streamedAnswer(request, { chunks: 25, delayMs: 40, text: LONG_ANSWER }));
    const clients = Array.from({ length: 4 }, () => system.wsClient());
    const task = await submitTask(server, SAMPLE_TEXT);
    const feeds = Array.from({ length: 200 }, (_, i) => watchOutput(clients[i % clients.length]!, task.id));
    await waitFor(() => feeds.every((feed) => feed.completed), { timeoutMs: 30_000, message: 'every feed to complete' });
    const result = (await finished(task.id)).result;
    const texts = new Set(feeds.map((feed) => assemble(feed.events)));
    expect([...texts]).toEqual([result]);
    expect(feeds.every((feed) => feed.errors.length === 0)).toBe(true);
  });

  it('gives a task answered in one piece a single final chunk, and refuses a cursor it never handed out', async () => {
    const { fake, server } = system;
    fake.script(defaultAnswer);
    const client = system.wsClient();
    const task = await submitTask(server, SAMPLE_TEXT);
    const done = await finished(task.id);
    const feed = watchOutput(client, task.id);
    await waitFor(() => feed.completed, { message: 'the feed to complete' });
    expect(assemble(feed.events)).toBe(done.result);
    expect(feed.events.at(-1)).toMatchObject({ final: true });
    // Resuming after the final chunk gives nothing more and completes.
    const again = watchOutput(client, task.id, feed.events.at(-1)!.cursor);
    await waitFor(() => again.completed, { message: 'the resumed feed to complete' });
    expect(again.events).toHaveLength(0);

    const bad = watchOutput(client, task.id, 'not-a-cursor');
    await waitFor(() => bad.errors.length > 0, { message: 'the bad cursor to be refused' });
    expect(JSON.stringify(bad.errors)).toContain('BAD_USER_INPUT');
  });
});

describe('OUTPUT_MAX_BYTES', () => {
  it('ends an attempt that writes past the cap as OUTPUT_TOO_LARGE, keeping what it wrote', async () => {
    const { fake, server } = system;
    const small = await system.startWorker({ OUTPUT_FLUSH_MS: '5', OUTPUT_FLUSH_CHARS: '16', OUTPUT_MAX_BYTES: '100', WORKER_ID: 'small-output-worker' });
    await system.worker.stop();
    try {
      fake.script((request) => streamedAnswer(request, { chunks: 30, delayMs: 20, text: LONG_ANSWER }));
      const task = await submitTask(server, SAMPLE_TEXT);
      const done = await finished(task.id);
      expect(done.state).toBe('DLQ');
      expect(done.errors.map((error) => error.errorClass)).toEqual(['OUTPUT_TOO_LARGE']);
      const output = await graphql<{ task: { output: string | null } }>(server, 'query ($id: ID!) { task(id: $id) { output } }', { id: task.id });
      const written = output.data!.task.output!;
      expect(written.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(written)).toBeLessThanOrEqual(100);
      expect(LONG_ANSWER.startsWith(written)).toBe(true);
    } finally {
      await small.stop();
      await system.restartWorker();
    }
  });
});

