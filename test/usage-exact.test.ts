/**
 * The ledger against the provider's own bill: 500 tasks through a real server and worker and
 * the fake OpenRouter, with provider errors and retries, streams that break off (reconciled from
 * the generation endpoint), and cancels mid-stream. Every billed call is in the ledger once, and
 * the sums match the bill to the micro-dollar (here: to the nano-dollar); then a budget stops the
 * spend and the held tasks run once it rises.
 */
import { describe, expect, it } from 'vitest';
import { errorAnswer, streamedAnswer, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { graphql, SAMPLE_TEXT, submitTask, waitForTask } from './support/system.ts';
import { useSystem } from './support/fixtures.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({
  fake: true,
  server: { MAX_RETRIES: '5' },
  worker: { WORKER_CONCURRENCY: '20', RETRY_DELAY_SCALE: '0.0005', CIRCUIT_VOLUME_THRESHOLD: '100000', OUTPUT_FLUSH_MS: '5', USAGE_RECONCILE_MS: '3000', MAX_COMPLETION_TOKENS: '200', BUDGET_RECHECK_MS: '200' },
});

/** The n-th call of each task, by the marker in its text. */
const calls = new Map<string, number>();
function answer(request: RecordedRequest) {
  const marker = /#(\d+) (\w+)/.exec(JSON.stringify(request.body));
  const [n, kind] = [Number(marker?.[1] ?? 0), marker?.[2] ?? 'plain'];
  const call = (calls.get(String(n)) ?? 0) + 1;
  calls.set(String(n), call);
  const text = `Summary ${n}, call ${call}: ${'words that cost tokens '.repeat(1 + (n % 7))}`.trim();
  if (kind === 'flaky' && call === 1) return errorAnswer(503, 'No instances available');
  if (kind === 'broken' && call === 1) return { ...streamedAnswer(request, { chunks: 8, delayMs: 2, text }), breakAfterEvents: 4 };
  if (kind === 'cancelled') return streamedAnswer(request, { chunks: 40, delayMs: 25, text: `${text} ${'and more '.repeat(20)}` });
  return streamedAnswer(request, { chunks: 4, delayMs: 1, text });
}

const KINDS = ['plain', 'plain', 'plain', 'flaky', 'broken', 'plain', 'plain', 'broken', 'plain', 'cancelled'] as const;

describe('usage ledger against the provider bill', () => {
  it('records every billed call once, and the sums match the bill exactly', { timeout: 180_000 }, async () => {
    system.fake.script(answer);
    const submitted: { id: string; kind: string }[] = [];
    for (let batch = 0; batch < 500; batch += 50) {
      submitted.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const n = batch + i;
            const kind = KINDS[n % KINDS.length]!;
            return { id: (await submitTask(system.server, `${SAMPLE_TEXT} #${n} ${kind}`)).id, kind };
          }),
        )),
      );
    }
    // Cancel the slow ones once their answer is streaming (the provider has billed them).
    await Promise.all(
      submitted
        .filter((task) => task.kind === 'cancelled')
        .map(async (task) => {
          await waitFor(async () => {
            const output = await graphql<{ task: { output: string | null } }>(system.server, 'query ($id: ID!) { task(id: $id) { output } }', { id: task.id });
            return (output.data?.task.output ?? '').length > 0;
          }, { timeoutMs: 60_000, intervalMs: 20, message: `task ${task.id} to stream` });
          await graphql(system.server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id: task.id });
        }),
    );
    let cancelled = 0;
    for (const task of submitted) {
      const done = await waitForTask(system.server, task.id, (t) => ['COMPLETED', 'CANCELLED', 'DLQ'].includes(t.state), { timeoutMs: 60_000 });
      if (done.state === 'CANCELLED') cancelled += 1;
    }
    // Most cancels land mid-stream (a few answers finish first).
    expect(cancelled).toBeGreaterThan(30);
    // Usage of a cut-off call is recorded after reconciling: wait for the ledger to catch up.
    const bill = () => system.fake.bill();
    await waitFor(async () => (await system.redis.client.xlen(system.keys.usageLedger())) >= bill().totals.generations, {
      timeoutMs: 20_000,
      message: 'every billed call in the ledger',
    });
    const { totals, generations } = bill();
    expect(generations.every((generation) => !generation.open)).toBe(true);
    // A cancel hangs up on its stream (the provider bills what it had sent), unless the answer
    // had just finished.
    const hungUp = generations.filter((generation) => generation.cancelled).length;
    expect(hungUp).toBeLessThanOrEqual(cancelled);
    expect(hungUp).toBeGreaterThan(cancelled / 2);

    const entries = await system.redis.client.xrange(system.keys.usageLedger(), '-', '+');
    const ledger = entries.map(([, fields]) => Object.fromEntries(fields.reduce<[string, string][]>((pairs, value, i) => (i % 2 ? pairs : [...pairs, [value, fields[i + 1]!]]), [])));
    expect(ledger).toHaveLength(totals.generations);
    expect(new Set(ledger.map((entry) => entry.generationId)).size).toBe(totals.generations);
    expect(ledger.filter((entry) => entry.estimated === '1')).toEqual([]);
    const ledgerNano = ledger.reduce((sum, entry) => sum + Number(entry.costNano), 0);
    expect(ledgerNano).toBe(totals.costNanoUsd);
    expect(ledger.reduce((sum, entry) => sum + Number(entry.promptTokens), 0)).toBe(totals.promptTokens);
    expect(ledger.reduce((sum, entry) => sum + Number(entry.completionTokens), 0)).toBe(totals.completionTokens);

    // The counters behind usage(...) say the same, without reading the ledger.
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const usage = await graphql<{ usage: { calls: number; costUsd: number; tasks: number }[] }>(system.server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { calls costUsd tasks } }', { from, to });
    expect(usage.data!.usage).toHaveLength(1);
    expect(usage.data!.usage[0]!.calls).toBe(totals.generations);
    expect(Math.round(usage.data!.usage[0]!.costUsd * 1e9)).toBe(totals.costNanoUsd);
    expect(usage.data!.usage[0]!.tasks).toBe(500);
  });

  it('stops the spend at a budget, and runs the held tasks once the limit rises', { timeout: 120_000 }, async () => {
    system.fake.script((request) => streamedAnswer(request, { chunks: 2, delayMs: 1, text: 'A short summary.' }));
    const spentBefore = await graphql<{ budgets: unknown[] }>(system.server, '{ budgets { tenant } }');
    expect(spentBefore.data?.budgets).toEqual([]);
    // What the tenant spent today in the first test, plus a few more cents' worth of calls.
    const today = await graphql<{ usage: { costUsd: number }[] }>(system.server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { costUsd } }', {
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    const limit = today.data!.usage[0]!.costUsd + 0.0005;
    await graphql(system.server, 'mutation ($limit: Float) { setBudget(tenant: "default", period: DAY, limitUsd: $limit) { limitUsd } }', { limit });
    const billedBefore = system.fake.bill().totals.generations;
    const tasks = await Promise.all(Array.from({ length: 40 }, (_, i) => submitTask(system.server, `${SAMPLE_TEXT} Budget ${i}.`).catch(() => null)));
    const accepted = tasks.filter((task) => task !== null);
    await waitFor(async () => {
      const budgets = await graphql<{ budgets: { spentUsd: number; reservedUsd: number; limitUsd: number }[] }>(system.server, '{ budgets { spentUsd reservedUsd limitUsd } }');
      const budget = budgets.data!.budgets[0]!;
      return budget.reservedUsd === 0 && budget.spentUsd >= budget.limitUsd;
    }, { timeoutMs: 30_000, message: 'the budget to be spent' });
    const refused = await graphql(system.server, 'mutation { submitTask(input: { content: "One more." }) { id } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('BUDGET_EXCEEDED');
    // No provider call once the limit is reached: the spend overshoots by at most the calls that
    // were in flight (each within its hold).
    const billedAtLimit = system.fake.bill().totals.generations;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(system.fake.bill().totals.generations).toBe(billedAtLimit);
    expect(billedAtLimit - billedBefore).toBeLessThan(accepted.length);
    const held = await graphql<{ tasks: { totalCount: number } }>(system.server, '{ tasks(state: SCHEDULED) { totalCount } }');
    expect(held.data!.tasks.totalCount).toBeGreaterThan(0);

    await graphql(system.server, 'mutation { setBudget(tenant: "default", period: DAY, limitUsd: 1000) { limitUsd } }');
    for (const task of accepted) await waitForTask(system.server, task!.id, (t) => t.state === 'COMPLETED', { timeoutMs: 60_000 });
    await graphql(system.server, 'mutation { setBudget(tenant: "default", period: DAY, limitUsd: null) { limitUsd } }');
  });
});
