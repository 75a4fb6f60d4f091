/**
 * The short chaos run (about 60 s of faults; CHAOS_TEST_DURATION_S changes it): 2 API
 * servers, 3 workers, 200 subscribers, four tenants, random SIGKILL/SIGSTOP/SIGTERM, Redis
 * restarts and SCRIPT FLUSH, tenant weights, caps and pauses, a share of streaming tasks whose
 * output is followed live, then the audit of I1-I9, the output, the usage ledger, the caps and
 * starvation. `npm run chaos` runs the same for 5 minutes. First, the output invariant and the
 * usage audit on their own, so a broken one is known to fail the run (test/chaos-dispatch.test.ts does the same for caps and
 * starvation).
 */
import { describe, expect, it } from 'vitest';
import { outputProblems } from '../chaos/output-audit.ts';
import { newOutputFollow, receive, type OutputFollow, type ReceivedChunk } from '../chaos/output-follows.ts';
import { formatChaosReport, runChaos } from '../chaos/run-chaos.ts';
import { CHAOS_MODELS, startModelFaults } from '../chaos/model-faults.ts';
import { seeded } from '../chaos/random.ts';
import { auditUsage } from '../chaos/usage-audit.ts';
import type { BilledGeneration, FakeModelBehaviour, RecordedRequest } from '../tools/fake-openrouter.ts';

const seconds = Number(process.env.CHAOS_TEST_DURATION_S ?? 60);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

/** A follower that received `chunks` to the end of its feed. */
function followed(chunks: ReceivedChunk[]): OutputFollow {
  const follow: OutputFollow = { ...newOutputFollow('t1', 3, false), end: 'final' };
  const seen = new Set<string>();
  for (const chunk of chunks) receive(follow, chunk, seen);
  return follow;
}

const chunk = (cursor: string, text: string, flags: { reset?: boolean; final?: boolean } = {}): ReceivedChunk => ({
  at: 0,
  cursor,
  attempt: Number(cursor.split('-')[0]),
  text,
  reset: flags.reset ?? false,
  final: flags.final ?? false,
});

describe('the chaos output invariant', () => {
  const completed = { state: 'COMPLETED', result: 'Café 🚀 done.' };

  it('holds for a text that starts over on a new attempt and ends as the result', () => {
    const follow = followed([chunk('1-1', 'Broken', { reset: true }), chunk('2-1', 'Café 🚀', { reset: true }), chunk('2-2', ' done.', { final: true })]);
    expect(outputProblems(follow, completed)).toEqual([]);
  });

  it('breaks on a text that differs from the result, and says at which byte', () => {
    const follow = followed([chunk('1-1', 'Café 🚀', { reset: true }), chunk('1-2', ' done!', { final: true })]);
    expect(outputProblems(follow, completed)).toEqual([
      'output: subscriber 3 of t1 (COMPLETED): text of 16 bytes is not the result of 16 bytes; they part at byte 15: "é 🚀 done!" vs "é 🚀 done."',
    ]);
  });

  it('breaks on a cursor seen twice, on a chunk after the final one, and on a feed that ended without it', () => {
    const twice = followed([chunk('1-1', 'Café 🚀', { reset: true }), chunk('1-1', 'Café 🚀', { reset: true }), chunk('1-2', ' done.', { final: true })]);
    expect(outputProblems(twice, completed)).toEqual(['output: subscriber 3 of t1 (COMPLETED) saw cursor 1-1 twice']);
    const after = followed([chunk('1-1', 'Café 🚀 done.', { reset: true, final: true }), chunk('1-2', '')]);
    expect(outputProblems(after, completed)).toEqual(['output: subscriber 3 of t1 (COMPLETED) got 1 chunk(s) after the final one']);
    const unfinished = { ...followed([chunk('1-1', 'Café', { reset: true })]), end: null };
    expect(outputProblems(unfinished, completed)).toEqual([
      'output: subscriber 3 of t1 (COMPLETED) never reached the end of its feed (0 re-subscriptions)',
      'output: subscriber 3 of t1 (COMPLETED) got no final chunk',
    ]);
  });

  it('asks nothing of the text of a task that did not complete, but no final chunk either', () => {
    expect(outputProblems({ ...followed([chunk('1-1', 'Café', { reset: true })]), end: 'ended' }, { state: 'DLQ', result: null })).toEqual([]);
    expect(outputProblems(followed([chunk('1-1', 'Café', { reset: true, final: true })]), { state: 'CANCELLED', result: null })).toEqual([
      'output: subscriber 3 of t1 (CANCELLED) got a final chunk, but the task has no result',
    ]);
  });
});

describe('the usage audit', () => {
  const generation = (generationId: string, costNanoUsd: number, model = 'm'): BilledGeneration =>
    ({ generationId, costNanoUsd, model, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, costUsd: costNanoUsd / 1e9, streamed: true, completed: true, open: false, cancelled: false });
  const request = (generationId: string, callId: string): RecordedRequest => ({ method: 'POST', path: '/chat/completions', headers: { 'x-atf-call-id': callId }, body: null, at: 0, generationId });
  const entry = (callId: string, generationId: string, costNano: number, estimated = false, model = 'm') => ({ callId, generationId, costNano: String(costNano), estimated: estimated ? '1' : '0', model });
  const bill = (generations: BilledGeneration[]) => ({ generations, totals: { generations: generations.length, promptTokens: 0, completionTokens: 0, costUsd: 0, costNanoUsd: 0 } });
  const requests = [request('g1', 'c1'), request('g2', 'c2'), request('g3', 'c3'), request('g4', 'c4')];
  const billed = bill([generation('g1', 100), generation('g2', 250), generation('g3', 70)]);

  it('matches exact entries by generation id and estimates by call id, and tells the figures apart', () => {
    // c2 died before the answer named it (estimated at its prompt, 200 of 250); c4 was cut off before the provider started it (billed nothing).
    const audit = auditUsage({ entries: [entry('c1', 'g1', 100), entry('c2', '', 200, true), entry('c3', 'g3', 70), entry('c4', '', 200, true)], bill: billed, requests, completionCapNano: 1000 });
    expect(audit).toMatchObject({ billed: 3, lacking: [], twice: [], exact: [], estimatedOverBound: [], exactEntries: 2, exactLedgerNano: 170, exactBilledNano: 170 });
    expect(audit).toMatchObject({ estimatedEntries: 2, estimatedUnbilled: 1, estimatedLedgerNano: 400, estimatedBilledNano: 250, estimatedBoundNano: 2000 });
  });

  it('finds a call the ledger lacks, one it counts twice, an exact entry off the bill, and estimates past their bound', () => {
    const audit = auditUsage({
      entries: [entry('c1', 'g1', 100), entry('c1', 'g1', 100), entry('c3', 'g3', 71), entry('c4', '', 5000, true), entry('c9', 'g9', 1)],
      bill: billed,
      requests,
      completionCapNano: 1000,
    });
    expect(audit.lacking).toEqual(['usage: generation g2 (call c2), 250 n$ is not in the ledger']);
    expect(audit.twice).toEqual(['usage: generation g1 (call c1), 100 n$ is in the ledger 2 times', 'usage: call c1 is in the ledger 2 times']);
    expect(audit.exact).toEqual(['usage: the ledger has g9, which the provider never billed', 'usage: the exact entries total 271 n$, their calls\' bill 270 n$']);
    // An estimate may be off by its own amount (nothing billed) or by the completion cap: within the bound.
    expect(auditUsage({ entries: [entry('c2', '', 5000, true)], bill: bill([generation('g2', 250)]), requests, completionCapNano: 1000 }).estimatedOverBound).toEqual([]);
    expect(auditUsage({ entries: [entry('c2', '', 100, true)], bill: bill([generation('g2', 2250)]), requests, completionCapNano: 1000 }).estimatedOverBound).toEqual([
      'usage: the estimated entries differ from their calls\' bill by 2150 n$, over the bound of 1000 n$',
    ]);
  });
});

describe('the usage audit by model', () => {
  const generation = (generationId: string, costNanoUsd: number, model: string): BilledGeneration =>
    ({ generationId, costNanoUsd, model, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, costUsd: costNanoUsd / 1e9, streamed: true, completed: true, open: false, cancelled: false });
  const request = (generationId: string, callId: string): RecordedRequest => ({ method: 'POST', path: '/chat/completions', headers: { 'x-atf-call-id': callId }, body: null, at: 0, generationId });
  const entry = (callId: string, generationId: string, costNano: number, model: string, estimated = false) => ({ callId, generationId, costNano: String(costNano), estimated: estimated ? '1' : '0', model });
  const bill = (generations: BilledGeneration[]) => ({ generations, totals: { generations: generations.length, promptTokens: 0, completionTokens: 0, costUsd: 0, costNanoUsd: 0 } });
  const requests = [request('g1', 'c1'), request('g2', 'c2'), request('g3', 'c3'), request('g4', 'c4')];
  // g2 was served by the fallback after the primary failed before output (one call, one bill).
  const billed = bill([generation('g1', 100, 'a/primary'), generation('g2', 900, 'b/fallback'), generation('g3', 120, 'a/primary')]);
  const cap = (model: string) => (model === 'b/fallback' ? 3000 : 1000);

  it('checks each entry against the model that answered, and totals the exact entries by model', () => {
    const audit = auditUsage({ entries: [entry('c1', 'g1', 100, 'a/primary'), entry('c2', 'g2', 900, 'b/fallback'), entry('c3', '', 80, 'a/primary', true), entry('c4', '', 50, 'a/primary', true)], bill: billed, requests, completionCapNano: cap });
    expect(audit.models).toEqual([]);
    // c3 was billed (matched by its call id): checked; c4 never was: nothing to check it against.
    expect(audit.modelChecked).toBe(3);
    expect(audit.byModel).toEqual({ 'a/primary': { calls: 1, ledgerNano: 100, billedNano: 100 }, 'b/fallback': { calls: 1, ledgerNano: 900, billedNano: 900 } });
    expect(audit.estimatedBoundNano).toBe(2000);
  });

  it('finds a call recorded under the model asked for instead of the one that answered, priced at the wrong model', () => {
    // The worker named the primary for g2, and priced it at the primary's price: the sum over all entries would not show a right total, the models do.
    const audit = auditUsage({ entries: [entry('c1', 'g1', 100, 'a/primary'), entry('c2', 'g2', 300, 'a/primary'), entry('c3', 'g3', 120, 'a/primary', true)], bill: billed, requests, completionCapNano: cap });
    expect(audit.models).toEqual([
      'usage: call c2 (generation g2) is recorded as a/primary; b/fallback answered it',
      'usage: model a/primary: the exact entries total 400 n$, the bill 100 n$',
      'usage: model b/fallback: the exact entries total 0 n$, the bill 900 n$',
    ]);
    const estimate = auditUsage({ entries: [entry('c2', '', 300, 'c/other', true)], bill: bill([generation('g2', 900, 'b/fallback')]), requests, completionCapNano: cap });
    expect(estimate.models).toEqual(['usage: call c2 (generation g2) (estimated) is recorded as c/other; b/fallback answered it']);
  });

  it('lets an estimate whose call never heard its answer name the model the call asked for first', () => {
    // g2 asked for a/primary first and OpenRouter's fallback served b/fallback; the worker was cut off before the first chunk.
    const asked = requests.map((r) => (r.generationId === 'g2' ? { ...r, body: { model: 'a/primary', models: ['a/primary', 'b/fallback'] } } : r));
    const estimate = auditUsage({ entries: [entry('c2', '', 300, 'a/primary', true)], bill: bill([generation('g2', 900, 'b/fallback')]), requests: asked, completionCapNano: cap });
    expect(estimate.models).toEqual([]);
    expect(estimate.modelChecked).toBe(1);
    // Its bound is at the dearer model's cap: the one that answered.
    expect(estimate.estimatedBoundNano).toBe(3000);
    // An estimate that knew its generation (it was reconciled too late) must name the one that answered.
    const known = auditUsage({ entries: [entry('c2', 'g2', 300, 'a/primary', true)], bill: bill([generation('g2', 900, 'b/fallback')]), requests: asked, completionCapNano: cap });
    expect(known.models).toEqual(['usage: call c2 (generation g2) (estimated) is recorded as a/primary; b/fallback answered it']);
  });
});

describe('the per-model faults', () => {
  it('sets one fault at a time per model, of each kind, clears each when its time is up, and every model at the end', async () => {
    const calls: [string, FakeModelBehaviour | null][] = [];
    const active = new Map<string, FakeModelBehaviour>();
    const fake = {
      setModel(model: string, behaviour: FakeModelBehaviour | null) {
        calls.push([model, behaviour]);
        if (behaviour) {
          expect(active.has(model), `${model} got a second fault`).toBe(false);
          active.set(model, behaviour);
        } else active.delete(model);
      },
    };
    const faults = startModelFaults({ fake, models: CHAOS_MODELS, everyMs: 5, durationScale: 0.02, random: seeded(7) });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await faults.stop();
    expect(active.size).toBe(0);
    const counts = faults.counts();
    expect(counts.down + counts['429 burst'] + counts['cut streams']).toBe(faults.faults.length);
    expect(Object.values(counts).every((n) => n > 0)).toBe(true);
    expect(faults.faults.every((fault) => fault.clearedAt !== null && fault.clearedAt >= fault.setAt)).toBe(true);
    const cut = faults.faults.find((fault) => fault.kind === 'cut streams')!;
    expect(cut.behaviour.breakAfterChunks).toBeGreaterThanOrEqual(2);
    expect(calls.at(-1)![1]).toBeNull();
  });
});

describe('chaos', () => {
  it(`keeps I1-I9, the output, caps and starvation invariants through ${seconds} s of random faults and policy changes (seed ${seed})`, { timeout: (seconds + 240) * 1000 }, async () => {
    const lines: string[] = [];
    const report = await runChaos({ durationMs: seconds * 1000, ratePerSecond: 6, seed, log: (line) => lines.push(line) });
    const summary = formatChaosReport(report);
    console.log(summary);
    expect(report.ok, `${summary}\n${lines.join('\n')}`).toBe(true);
    expect(report.accepted).toBeGreaterThan(seconds * 2);
    expect(Object.values(report.faults).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(3);
    expect(report.output.completed).toBeGreaterThan(seconds / 10);
    expect(report.output.subscribers).toBe(report.output.tasks * 2);
    expect(report.output.chunks).toBeGreaterThan(report.output.subscribers * 5);
    // Every tenant submitted, policies changed, and the leases were sampled all along.
    expect(report.dispatch.tenants.every(({ byPriority }) => byPriority.NORMAL! > 0)).toBe(true);
    expect(report.dispatch.policies.pause + report.dispatch.policies.cap + report.dispatch.policies.weight).toBeGreaterThan(seconds / 10);
    expect(report.dispatch.policies.lift).toBe(report.dispatch.tenants.length);
    expect(report.dispatch.leaseSamples).toBeGreaterThan(seconds * 2);
    // Models went down, answered 429s and cut streams; every call was checked against the model that answered it.
    expect(Object.values(report.models.faults).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(seconds / 10);
    expect(report.usage.modelChecked).toBeGreaterThan(report.usage.billed * 0.9);
  });
});
