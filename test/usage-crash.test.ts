/**
 * The usage ledger across a worker's crash windows, with real processes and signals against the
 * fake OpenRouter's bill (issue 27): every call the provider billed is in the ledger once; where
 * its generation id was known, at exactly the billed cost; where it was not, as an entry flagged
 * estimated, named by our own call id (the request's `x-atf-call-id`).
 */
import { describe, expect, it } from 'vitest';
import { defaultAnswer, errorAnswer, streamedAnswer, type FakeScript, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { graphql, SAMPLE_TEXT, submitTask, waitForTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';
import type { WorkerProcess } from './support/worker-process.ts';

const system = useSystem({ fake: true, server: { MAX_RETRIES: '3' } });
const { keys } = system;

/** Short leases and deadlines: an orphaned call is reconciled PROVIDER_TIMEOUT + RECONCILE + LEASE after it began. */
const worker = () =>
  system.spawnWorker({ LEASE_MS: '1000', SWEEP_INTERVAL_MS: '300', PROVIDER_TIMEOUT_MS: '2500', USAGE_RECONCILE_MS: '500', OUTPUT_FLUSH_MS: '10', BUDGET_RECHECK_MS: '200' });

type Entry = Record<string, string>;
async function ledger(): Promise<Entry[]> {
  const entries = await system.redis.client.xrange(keys.usageLedger(), '-', '+');
  return entries.map(([, fields]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i]!, fields[2 * i + 1]!])));
}

/** The requests of one task, by the marker in its text. */
const requestsOf = (marker: string) => system.fake.requests.filter((request) => JSON.stringify(request.body).includes(marker));

/** A script for the task with `marker` (its n-th call); every other call gets the default answer. */
function scriptFor(marker: string, answer: (request: RecordedRequest, call: number) => ReturnType<FakeScript>): FakeScript {
  let calls = 0;
  return (request) => (JSON.stringify(request.body).includes(marker) ? answer(request, (calls += 1)) : defaultAnswer(request));
}

/**
 * Every generation billed for the task with `marker` once in the ledger (by generation id, or by
 * call id for an estimate), and no entry of its task beyond them. Returns the task's entries and
 * those generations.
 */
async function expectLedgerMatchesBill(marker: string, taskId: string) {
  const requests = requestsOf(marker);
  const ids = new Set(requests.map((request) => request.generationId));
  const billed = () => system.fake.bill().generations.filter((generation) => ids.has(generation.generationId));
  await waitFor(async () => (await system.redis.client.hlen(keys.usagePending())) === 0 && billed().every((g) => !g.open), {
    timeoutMs: 20_000,
    message: 'every call recorded or dropped',
  });
  const entries = (await ledger()).filter((entry) => entry.taskId === taskId);
  const generations = billed();
  const callIdOf = new Map(requests.map((request) => [request.generationId, String(request.headers['x-atf-call-id'] ?? '')]));
  for (const generation of generations) {
    const matches = entries.filter((entry) => entry.generationId === generation.generationId || (entry.generationId === '' && entry.callId === callIdOf.get(generation.generationId)));
    expect(matches, `generation ${generation.generationId} in the ledger once`).toHaveLength(1);
  }
  expect(entries).toHaveLength(generations.length);
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return { entries, generations, ledgerNano: sum(entries.map((entry) => Number(entry.costNano))), billedNano: sum(generations.map((g) => g.costNanoUsd)) };
}

describe('the usage ledger across worker crashes', () => {
  it('records a call whose worker was SIGKILLed after sending it and before the first byte, as estimated, at the billed prompt', async () => {
    const marker = 'kill-before-first-byte';
    let victim: WorkerProcess | null = null;
    // The first call is answered as one JSON body after 1.5 s: the model has the prompt, so it is
    // billed, and the worker dies before it hears a byte (never learns the generation id).
    system.fake.script(
      scriptFor(marker, (request, call) => {
        if (call > 1) return defaultAnswer(request);
        victim?.signal('SIGKILL');
        return { ...defaultAnswer(request), stream: false, delayMs: 1500 };
      }),
    );
    victim = await worker();
    const task = await submitTask(system.server, `${SAMPLE_TEXT} ${marker}`);
    await victim.exited;
    await worker();
    const done = await waitForTask(system.server, task.id, (t) => t.state === 'COMPLETED', { timeoutMs: 30_000 });
    expect(done.errors.map((error) => error.errorClass)).toEqual(['STALLED']);

    const { entries, generations, ledgerNano, billedNano } = await expectLedgerMatchesBill(marker, task.id);
    expect(generations).toHaveLength(2);
    const [killed, rescued] = generations;
    expect(killed).toMatchObject({ completionTokens: 0, cancelled: true });
    const estimate = entries.find((entry) => entry.estimated === '1')!;
    expect(estimate).toMatchObject({ generationId: '', callId: String(requestsOf(marker)[0]!.headers['x-atf-call-id']), taskId: task.id, attempt: '1' });
    // The estimate is the prompt at the model's price, which is what the fake billed.
    expect(Number(estimate.costNano)).toBe(killed!.costNanoUsd);
    expect(entries.find((entry) => entry.generationId === rescued!.generationId)).toMatchObject({ estimated: '0', costNano: String(rescued!.costNanoUsd) });
    expect(ledgerNano).toBe(billedNano);

    // usage(...) names the estimate as such.
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    const usage = await graphql<{ usage: { calls: number; estimatedCalls: number; estimatedCostUsd: number }[] }>(
      system.server,
      'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { calls estimatedCalls estimatedCostUsd } }',
      range,
    );
    expect(usage.data!.usage[0]).toMatchObject({ estimatedCalls: 1, estimatedCostUsd: killed!.costNanoUsd / 1e9 });
  });

  it('records a call once, exactly, when its worker was SIGSTOPped past its lease mid-stream and woken after a takeover', async () => {
    const marker = 'stop-mid-stream';
    system.fake.script(scriptFor(marker, (request) => streamedAnswer(request, { chunks: 40, delayMs: 50 })));
    const sleeper = await worker();
    const task = await submitTask(system.server, `${SAMPLE_TEXT} ${marker}`);
    await waitFor(() => (requestsOf(marker)[0]?.eventsSent ?? 0) >= 4, { timeoutMs: 20_000, message: 'the stream to begin' });
    sleeper.signal('SIGSTOP');
    const rescuer = await worker();
    const done = await waitForTask(system.server, task.id, (t) => t.state === 'COMPLETED', { timeoutMs: 30_000 });
    expect(done.history.at(-1)!.workerId).toBe(rescuer.id);
    sleeper.signal('SIGCONT');
    await waitFor(() => sleeper.lines.some((line) => /stale lease|lease lost/.test(line)), { timeoutMs: 10_000, message: 'the sleeper to notice' });

    const { entries, generations, ledgerNano, billedNano } = await expectLedgerMatchesBill(marker, task.id);
    expect(generations).toHaveLength(2);
    expect(entries.every((entry) => entry.estimated === '0')).toBe(true);
    expect(ledgerNano).toBe(billedNano);
  });

  it('records a call whose answer arrived while its worker was frozen, when a cancel is handled before that answer is read', async () => {
    const marker = 'cancel-while-frozen';
    let frozen: WorkerProcess | null = null;
    // Frozen as the request arrives; the answer (headers, stream, end) comes 300 ms later and is
    // billed whole while the worker sleeps. The cancel published meanwhile waits in its socket
    // ahead of the answer: woken, the worker handles it first.
    system.fake.script(
      scriptFor(marker, (request) => {
        frozen?.signal('SIGSTOP');
        return { ...streamedAnswer(request, { chunks: 4, delayMs: 5 }), delayMs: 300 };
      }),
    );
    frozen = await worker();
    const task = await submitTask(system.server, `${SAMPLE_TEXT} ${marker}`);
    await waitFor(() => requestsOf(marker).length === 1, { timeoutMs: 20_000, message: 'the call to be sent' });
    const cancelled = await graphql<{ cancelTask: { state: string } }>(system.server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id: task.id });
    expect(cancelled.data?.cancelTask.state).toBe('CANCELLED');
    await waitFor(() => system.fake.bill().generations.some((g) => g.generationId === requestsOf(marker)[0]!.generationId && !g.open && g.completed), { timeoutMs: 10_000, message: 'the answer to be billed whole' });
    frozen.signal('SIGCONT');
    await waitFor(() => frozen!.lines.some((line) => /cancel received/.test(line)), { timeoutMs: 10_000, message: 'the worker to handle the cancel' });

    const { entries, generations, billedNano } = await expectLedgerMatchesBill(marker, task.id);
    expect(generations).toHaveLength(1);
    expect(entries[0]).toMatchObject({ generationId: generations[0]!.generationId, estimated: '0', costNano: String(billedNano) });
  });
  it('records a call cancelled after it left and before any answer, which the provider billed, at its estimate', async () => {
    const marker = 'cancel-before-answer';
    // Answered as one body after 1 s: the provider has the prompt (billed) from the start, as one
    // whose start crossed the hang-up on the wire.
    system.fake.script(scriptFor(marker, (request) => ({ ...defaultAnswer(request), stream: false, delayMs: 1000 })));
    const live = await worker();
    const task = await submitTask(system.server, `${SAMPLE_TEXT} ${marker}`);
    await waitFor(() => requestsOf(marker).length === 1, { timeoutMs: 20_000, message: 'the call to be sent' });
    await graphql(system.server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id: task.id });
    await waitFor(() => live.lines.some((line) => /cancel received/.test(line)), { timeoutMs: 10_000, message: 'the worker to handle the cancel' });

    const { entries, generations, billedNano } = await expectLedgerMatchesBill(marker, task.id);
    expect(generations).toHaveLength(1);
    expect(generations[0]).toMatchObject({ completionTokens: 0, cancelled: true });
    expect(entries).toEqual([expect.objectContaining({ generationId: '', estimated: '1', costNano: String(billedNano) })]);
  });

  it('leaves nothing of a call that never left (a spent budget defers it) or that the provider refused (HTTP 503)', { timeout: 60_000 }, async () => {
    const marker = 'never-billed';
    system.fake.script(scriptFor(marker, (request, call) => (call === 1 ? errorAnswer(503, 'No instances available') : defaultAnswer(request))));
    // Submitted while no worker runs; then a budget of $0 is set: the worker's hold is refused.
    const task = await submitTask(system.server, `${SAMPLE_TEXT} ${marker}`);
    await graphql(system.server, 'mutation { setBudget(tenant: "default", period: DAY, limitUsd: 0) { limitUsd } }');
    await worker();
    await waitForTask(system.server, task.id, (t) => t.state === 'SCHEDULED' && t.history.some((entry) => entry.reason === 'BUDGET'), { timeoutMs: 20_000 });
    expect(requestsOf(marker)).toEqual([]);
    await waitFor(async () => (await system.redis.client.hlen(keys.usagePending())) === 0, { timeoutMs: 5000, message: 'the deferred call dropped' });

    await graphql(system.server, 'mutation { setBudget(tenant: "default", period: DAY, limitUsd: null) { limitUsd } }');
    const done = await waitForTask(system.server, task.id, (t) => t.state === 'COMPLETED', { timeoutMs: 30_000 });
    expect(done.errors.map((error) => error.httpStatus)).toEqual([503]);
    const { entries, generations } = await expectLedgerMatchesBill(marker, task.id);
    expect(generations).toHaveLength(1);
    expect(entries).toEqual([expect.objectContaining({ generationId: generations[0]!.generationId, estimated: '0' })]);
  });
});
