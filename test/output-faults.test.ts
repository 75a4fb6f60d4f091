/**
 * Live output under worker faults, with real processes and signals: a worker SIGKILLed
 * mid-stream is taken over and the text starts over cleanly; a worker SIGSTOPped past its
 * lease and woken after the takeover writes no chunk.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { streamedAnswer } from '../tools/fake-openrouter.ts';
import { expectCleanAudit } from './support/audit.ts';
import { useSystem } from './support/fixtures.ts';
import { assembleOutput as assemble, getTask, SAMPLE_TEXT, submitTask, subscribe, waitForTask, type OutputChunk as Chunk, type TaskView } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const OUTPUT = 'subscription ($id: ID!) { taskOutput(id: $id) { cursor attempt text reset final } }';
const ANSWER = 'A worker that dies mid-sentence must not leave half a sentence behind in the final text. '.repeat(3).trim();
const system = useSystem({ fake: true, server: { MAX_RETRIES: '2', SUBSCRIPTION_RESYNC_MS: '500' } });
const { keys } = system;

beforeAll(() => {
  // 60 pieces 50 ms apart: a 3 s stream, long enough to be interrupted halfway.
  system.fake.script((request) => streamedAnswer(request, { chunks: 60, delayMs: 50, text: ANSWER }));
});

/** A worker process (killed after the test by the fixture). */
const worker = () => system.spawnWorker({ LEASE_MS: '1000', SWEEP_INTERVAL_MS: '500', PROVIDER_TIMEOUT_MS: '6000', USAGE_RECONCILE_MS: '500', OUTPUT_FLUSH_MS: '10' });

const until = (id: string, predicate: (task: TaskView) => boolean, message: string) =>
  waitForTask(system.server, id, predicate, { timeoutMs: 30_000, intervalMs: 25, message });

describe('live output under worker faults', () => {
  it('starts over cleanly on the next worker after the first is SIGKILLed mid-stream', async () => {
    const first = await worker();
    const { server, redis } = system;
    const client = system.wsClient();
    const task = await submitTask(server, `${SAMPLE_TEXT} kill-mid-stream`);
    const feed = subscribe<Chunk>(client, OUTPUT, { id: task.id }, 'taskOutput');
    await waitFor(() => feed.events.length >= 3, { timeoutMs: 30_000, message: 'a few chunks from the first worker' });
    first.signal('SIGKILL');
    await first.exited;
    await worker();
    await waitFor(() => feed.completed, { timeoutMs: 30_000, message: 'the feed to complete' });
    const done = await until(task.id, (t) => t.state === 'COMPLETED', 'completion after the kill');
    expect(done.errors.map((error) => error.errorClass)).toEqual(['STALLED']);
    expect([...new Set(feed.events.map((chunk) => chunk.attempt))]).toEqual([1, 2]);
    const firstOfTwo = feed.events.findIndex((chunk) => chunk.attempt === 2);
    expect(feed.events[firstOfTwo]!.reset).toBe(true);
    expect(assemble(feed.events)).toBe(done.result);
    expect(done.result).toBe(ANSWER);
    await expectCleanAudit(redis.client, keys, [task.id]);

    // The killed worker never recorded its call's usage; a sweeper reconciles it from the
    // provider once the call is surely orphaned, so the ledger still matches the bill.
    const ledgerNano = async () => (await redis.client.xrange(keys.usageLedger(), '-', '+')).reduce((sum, [, fields]) => sum + Number(fields[fields.indexOf('costNano') + 1]), 0);
    await waitFor(async () => (await redis.client.xlen(keys.usageLedger())) === system.fake.bill().totals.generations, { timeoutMs: 30_000, message: "the killed call's usage to be recorded" });
    const bill = system.fake.bill();
    expect(bill.totals.generations).toBe(2);
    expect(await ledgerNano()).toBe(bill.totals.costNanoUsd);
    expect(await redis.client.hlen(keys.usagePending())).toBe(0);
  });

  it('writes no chunk from a worker woken after its task was taken over (SIGSTOP/SIGCONT)', async () => {
    const sleeper = await worker();
    const { server, redis } = system;
    const client = system.wsClient();
    const task = await submitTask(server, `${SAMPLE_TEXT} stop-mid-stream`);
    const feed = subscribe<Chunk>(client, OUTPUT, { id: task.id }, 'taskOutput');
    await waitFor(() => feed.events.length >= 2, { timeoutMs: 30_000, message: 'a few chunks from the sleeper' });
    sleeper.signal('SIGSTOP');
    const rescuer = await worker();
    const done = await until(task.id, (t) => t.state === 'COMPLETED', 'the rescuer to finish it');
    expect(done.history.at(-1)!.workerId).toBe(rescuer.id);
    await waitFor(() => feed.completed, { timeoutMs: 30_000, message: 'the feed to complete' });
    const stored = await redis.client.xrange(keys.taskOutput(task.id), '-', '+');

    // Woken: its provider stream had kept arriving in the socket buffer, so it tries to append.
    sleeper.signal('SIGCONT');
    await waitFor(() => sleeper.lines.some((line) => /stale lease|lease lost/.test(line)), { timeoutMs: 10_000, message: 'the sleeper to notice' });
    expect(await redis.client.xrange(keys.taskOutput(task.id), '-', '+')).toEqual(stored);
    expect(stored.every(([id]) => id.startsWith('2-'))).toBe(true);
    const firstOfTwo = feed.events.findIndex((chunk) => chunk.attempt === 2);
    expect(feed.events.slice(firstOfTwo).every((chunk) => chunk.attempt === 2)).toBe(true);
    expect(assemble(feed.events)).toBe(done.result);
    const after = (await getTask(server, task.id))!;
    expect(after.version).toBe(done.version);
    await expectCleanAudit(redis.client, keys, [task.id]);
  });
});
