/**
 * What each OpenRouter call cost (issue 16), end to end over loopback against the fake
 * OpenRouter, which keeps its own bill: the usage the provider reports once per call must be
 * what the fake charged, whether it came in the answer, in the stream's last chunk, or from the
 * generation endpoint after a cut-off; and flagged as an estimate only when nothing better was
 * to be had.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallUsage, ModelPrice } from '../../schema/src/usage.ts';
import { defaultAnswer, errorAnswer, startFakeOpenRouter, streamedAnswer, type BilledGeneration, type FakeOpenRouter } from '../../tools/fake-openrouter.ts';
import { createOpenRouterProvider, type OpenRouterOptions } from '../providers/openrouter.ts';
import { createPriceBook } from '../providers/openrouter-prices.ts';
import { reconcileGeneration } from '../providers/openrouter-usage.ts';
import type { ChatMessage, CompletionRequest, TextProvider } from '../providers/provider.ts';
import { costAt, estimateTokens } from '../providers/usage-estimate.ts';

const MODEL = 'test-vendor/test-model';
const PRICE: ModelPrice = { promptUsd: 0.0000015, completionUsd: 0.000006 };
const OTHER_PRICE: ModelPrice = { promptUsd: 0.0000002, completionUsd: 0.0000004 };
const TEXT = 'Queues decouple producers from consumers. Workers pull jobs and retry failures. Results are stored in Redis.';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter({ prices: { [MODEL]: PRICE, 'other-vendor/routed': OTHER_PRICE } });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.script(defaultAnswer);
  fake.scriptGenerations(null);
  fake.scriptModels(null);
});

function provider(options: Partial<OpenRouterOptions> = {}): TextProvider {
  const prices = createPriceBook({ baseUrl: fake.baseUrl, ttlMs: 60_000 });
  return createOpenRouterProvider({
    apiKey: 'sk-or-test',
    baseUrl: fake.baseUrl,
    model: MODEL,
    timeoutMs: 5000,
    maxResponseBytes: 1024 * 1024,
    // Generous: a reconcile that should succeed must not run out on a loaded machine (the tests of
    // running out set their own, shorter ones).
    reconcileTimeoutMs: 3000,
    priceOf: prices.priceOf,
    ...options,
  });
}

const messages = (content = TEXT): ChatMessage[] => [
  { role: 'system', content: 'Summarize the text.' },
  { role: 'user', content },
];

/** Runs one call; records its usage reports and the order of report and settlement. */
async function run(target: TextProvider, request: Partial<CompletionRequest> = {}) {
  const usages: CallUsage[] = [];
  const order: string[] = [];
  const texts: string[] = [];
  const settled = target
    .complete({
      messages: messages(),
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onText: (delta) => texts.push(delta),
      onUsage: (usage) => {
        usages.push(usage);
        order.push('usage');
      },
      ...request,
    })
    .then(
      (result) => {
        order.push('resolved');
        return { result, error: null };
      },
      (error: unknown) => {
        order.push('rejected');
        return { result: null, error };
      },
    );
  return { settled, usages, order, texts };
}

/** The fake's record of a generation, as the CallUsage the worker should report for it. */
function asReported(id: string | null): CallUsage {
  const record = fake.bill().generations.find((g) => g.generationId === id);
  if (!record) throw new Error(`no generation ${id} in the bill`);
  return {
    model: record.model,
    generationId: record.generationId,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    cachedTokens: record.cachedTokens,
    reasoningTokens: record.reasoningTokens,
    costUsd: record.costUsd,
    estimated: false,
  };
}

const lastGeneration = (): BilledGeneration => fake.bill().generations.at(-1)!;

describe('usage reported by the provider', () => {
  it('reads usage and cost from the stream\'s last chunk, once, before the call resolves', async () => {
    const lookupsBefore = fake.generationRequests.length;
    const { settled, usages, order } = await run(provider());
    const { result } = await settled;
    expect(result?.text).toMatch(/^Summary: Queues decouple/);
    expect(order).toEqual(['usage', 'resolved']);
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    expect(usages[0]).toMatchObject({ model: MODEL, generationId: expect.stringMatching(/^gen-/), estimated: false });
    expect(usages[0]!.costUsd).toBeGreaterThan(0);
    expect(lastGeneration()).toMatchObject({ completed: true, streamed: true, open: false });
    // The task's usage is still there, from the same figures.
    expect(result?.usage).toEqual({
      model: MODEL,
      promptTokens: usages[0]!.promptTokens,
      completionTokens: usages[0]!.completionTokens,
      totalTokens: usages[0]!.promptTokens + usages[0]!.completionTokens,
    });
    expect(fake.generationRequests.length).toBe(lookupsBefore);
  });

  it('tells the generation id before any text, once', async () => {
    const order: string[] = [];
    const { settled, usages } = await run(provider(), {
      onGeneration: (id) => order.push(`generation ${id}`),
      onText: () => order.push('text'),
    });
    await settled;
    expect(order[0]).toBe(`generation ${usages[0]!.generationId}`);
    expect(order.filter((o) => o.startsWith('generation'))).toHaveLength(1);
    expect(order.length).toBeGreaterThan(1);
  });

  it('reads usage from a whole JSON answer, with cached and reasoning tokens and the model that answered', async () => {
    fake.script((request) => {
      const answer = defaultAnswer(request);
      return { ...answer, stream: false, cachedTokens: 3, reasoningTokens: 5, body: { ...(answer.body as object), model: 'other-vendor/routed' } };
    });
    const { settled, usages } = await run(provider());
    expect((await settled).error).toBeNull();
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    expect(usages[0]).toMatchObject({ model: 'other-vendor/routed', cachedTokens: 3, reasoningTokens: 5 });
    const record = lastGeneration();
    expect(record.costUsd).toBe(costAt(OTHER_PRICE, record.promptTokens, record.completionTokens));
  });

  it('sends the completion cap as max_tokens and asks for usage accounting', async () => {
    const { settled } = await run(provider(), { maxTokens: 256 });
    await settled;
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: MODEL, stream: true, max_tokens: 256, usage: { include: true } });
    const { settled: uncapped } = await run(provider());
    await uncapped;
    expect(fake.requests.at(-1)!.body).not.toHaveProperty('max_tokens');
  });

  it('asks the generation endpoint when a finished stream carried no usage', async () => {
    fake.script((request) => ({ ...defaultAnswer(request), omitUsage: true }));
    const { settled, usages } = await run(provider());
    const { result } = await settled;
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    expect(result?.usage).toEqual({
      model: MODEL,
      promptTokens: usages[0]!.promptTokens,
      completionTokens: usages[0]!.completionTokens,
      totalTokens: usages[0]!.promptTokens + usages[0]!.completionTokens,
    });
  });

  it('reconciles a stream that broke off from the generation endpoint: the prompt and the text sent before the break', async () => {
    const long = Array.from({ length: 30 }, (_, i) => `Sentence ${i} is about queues.`).join(' ');
    fake.script((request) => ({ ...streamedAnswer(request, { chunks: 10, delayMs: 0, text: long }), breakAfterEvents: 5 }));
    const { settled, usages, order, texts } = await run(provider());
    const { error } = await settled;
    expect(error).toMatchObject({ errorClass: 'PROVIDER_ERROR' });
    expect(order).toEqual(['usage', 'rejected']);
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    // Four content events went out (the first event is a keep-alive): billed for those only.
    const record = lastGeneration();
    expect(record).toMatchObject({ completed: false, cancelled: false });
    expect(record.completionTokens).toBe(estimateTokens(texts.join('')));
    expect(record.completionTokens).toBeLessThan(estimateTokens(long));
  });

  it('reconciles an error inside the stream', async () => {
    fake.script(() => ({
      events: [': OPENROUTER PROCESSING', JSON.stringify({ choices: [{ delta: { content: 'Partial answer ' } }] }), JSON.stringify({ error: { code: 502, message: 'Upstream crashed' }, choices: [{ delta: {}, finish_reason: 'error' }] })],
    }));
    const { settled, usages } = await run(provider());
    expect((await settled).error).toMatchObject({ errorClass: 'PROVIDER_ERROR', message: 'Upstream crashed' });
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    expect(usages[0]!.completionTokens).toBe(estimateTokens('Partial answer '));
  });

  it('reconciles a cancelled stream, and the cancel still ends the call promptly with its own reason', async () => {
    fake.script((request) => streamedAnswer(request, { chunks: 40, delayMs: 25 }));
    const controller = new AbortController();
    const { settled, usages, texts } = await run(provider({ reconcileTimeoutMs: 2000 }), { signal: controller.signal });
    while (texts.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    const cancelledAt = Date.now();
    controller.abort(new Error('cancelled by the user'));
    const { error } = await settled;
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    expect((error as Error).message).toBe('cancelled by the user');
    expect(usages).toEqual([asReported(usages[0]!.generationId)]);
    expect(lastGeneration()).toMatchObject({ completed: false, cancelled: true });
  });

  it('lets another process find out what a call cost from its generation id, after the caller died', async () => {
    fake.script((request) => streamedAnswer(request, { chunks: 40, delayMs: 20 }));
    const controller = new AbortController();
    let generationId = '';
    // No onUsage: this caller never reports, as a worker killed mid-call.
    const call = provider().complete({
      messages: messages(),
      signal: controller.signal,
      onProgress: () => undefined,
      onText: () => controller.abort(new Error('killed')),
      onGeneration: (id) => {
        generationId = id;
      },
    });
    await expect(call).rejects.toThrow('killed');
    const reconciled = await reconcileGeneration(generationId, MODEL, { baseUrl: fake.baseUrl, apiKey: 'k', timeoutMs: 2000 });
    expect(reconciled).toEqual(asReported(generationId));
    expect(await reconcileGeneration('gen-unknown', MODEL, { baseUrl: fake.baseUrl, apiKey: 'k', timeoutMs: 200 })).toBeNull();
  });

  it('waits out the generation endpoint\'s lag (404 until recorded) within the reconcile time', async () => {
    const lagging = await startFakeOpenRouter({ prices: { [MODEL]: PRICE }, generationLagMs: 300 });
    try {
      lagging.script((request) => ({ ...defaultAnswer(request), breakAfterEvents: 3 }));
      const target = createOpenRouterProvider({ apiKey: 'k', baseUrl: lagging.baseUrl, model: MODEL, timeoutMs: 5000, maxResponseBytes: 1 << 20, reconcileTimeoutMs: 2000 });
      const usages: CallUsage[] = [];
      await expect(target.complete({ messages: messages(), signal: new AbortController().signal, onProgress: () => undefined, onText: () => undefined, onUsage: (u) => usages.push(u) })).rejects.toMatchObject({ errorClass: 'PROVIDER_ERROR' });
      const record = lagging.bill().generations[0]!;
      expect(usages).toEqual([expect.objectContaining({ generationId: record.generationId, costUsd: record.costUsd, completionTokens: record.completionTokens, estimated: false })]);
      expect(lagging.generationRequests.length).toBeGreaterThan(1);
      expect(lagging.generationRequests.every((r) => r.headers.authorization === 'Bearer k')).toBe(true);
    } finally {
      await lagging.close();
    }
  });

  it('estimates from the text sent and received when the generation endpoint does not answer, within the reconcile time', async () => {
    fake.script((request) => ({ ...streamedAnswer(request, { chunks: 10, delayMs: 0 }), breakAfterEvents: 4 }));
    fake.scriptGenerations(() => errorAnswer(404, 'Generation not found'));
    const startedAt = Date.now();
    const { settled, usages, texts } = await run(provider({ reconcileTimeoutMs: 400 }));
    expect((await settled).error).toMatchObject({ errorClass: 'PROVIDER_ERROR' });
    expect(Date.now() - startedAt).toBeLessThan(1500);
    const record = lastGeneration();
    const completionTokens = estimateTokens(texts.join(''));
    expect(usages).toEqual([
      {
        model: MODEL,
        generationId: record.generationId,
        promptTokens: record.promptTokens,
        completionTokens,
        cachedTokens: 0,
        reasoningTokens: 0,
        costUsd: costAt(PRICE, record.promptTokens, completionTokens),
        estimated: true,
      },
    ]);

    // An endpoint that hangs is bounded the same way.
    fake.scriptGenerations(() => ({ status: 200, body: { data: {} }, delayMs: 3000 }));
    const hangingAt = Date.now();
    const hanging = await run(provider({ reconcileTimeoutMs: 300 }));
    await hanging.settled;
    expect(Date.now() - hangingAt).toBeLessThan(1500);
    expect(hanging.usages).toEqual([expect.objectContaining({ estimated: true })]);
  });

  it('reports an estimate, flagged, for a call cut off after its request left and before any answer: the provider may have started it', async () => {
    // The fake bills nothing here (it sees the hang-up before it starts the stream); a provider
    // whose start crosses the hang-up on the wire bills the prompt, and the worker cannot tell
    // which happened: the call is recorded at its prompt, as an estimate.
    fake.script((request) => ({ ...defaultAnswer(request), delayMs: 1500 }));
    const billed = fake.bill().totals.generations;
    const { settled, usages } = await run(provider({ timeoutMs: 200 }));
    expect((await settled).error).toMatchObject({ errorClass: 'NETWORK_TIMEOUT' });
    const promptTokens = estimateTokens('Summarize the text.') + estimateTokens(TEXT);
    expect(usages).toEqual([
      { model: MODEL, generationId: null, promptTokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, costUsd: costAt(PRICE, promptTokens, 0), estimated: true },
    ]);
    // The request carried our call id, by which a bill is matched to an estimate.
    expect(fake.requests.at(-1)!.headers['x-atf-call-id']).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(fake.bill().totals.generations).toBe(billed);
  });

  it.each([402, 429, 503, 400])('reports nothing for HTTP %i: nothing ran, nothing billed', async (status) => {
    fake.script(() => errorAnswer(status, 'no'));
    const billed = fake.bill().totals.generations;
    const { settled, usages } = await run(provider());
    expect((await settled).error).toMatchObject({ httpStatus: status });
    expect(usages).toEqual([]);
    expect(fake.bill().totals.generations).toBe(billed);
  });

  it('reports nothing when the provider cannot be reached, or the call was cancelled before it began', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await run(provider({ baseUrl: `http://127.0.0.1:${port}/api/v1` }));
    expect((await unreachable.settled).error).toMatchObject({ errorClass: 'NETWORK_TIMEOUT', message: 'could not reach the provider' });
    expect(unreachable.usages).toEqual([]);

    const requestsBefore = fake.requests.length;
    const early = await run(provider(), { signal: AbortSignal.abort(new Error('cancelled')) });
    expect(((await early.settled).error as Error).message).toBe('cancelled');
    expect(early.usages).toEqual([]);
    expect(fake.requests.length).toBe(requestsBefore);
  });

  it('reports what the fake charged across many calls, to the nano-dollar', async () => {
    const fresh = await startFakeOpenRouter({ prices: { [MODEL]: PRICE } });
    try {
      let n = 0;
      fresh.script((request) => {
        n += 1;
        if (n % 4 === 1) return { ...streamedAnswer(request, { chunks: 8, delayMs: 0 }), breakAfterEvents: 1 + (n % 7) };
        if (n % 4 === 2) return { ...defaultAnswer(request), omitUsage: true };
        if (n % 4 === 3) return errorAnswer(503, 'No instances available');
        return defaultAnswer(request);
      });
      const target = createOpenRouterProvider({ apiKey: 'k', baseUrl: fresh.baseUrl, model: MODEL, timeoutMs: 5000, maxResponseBytes: 1 << 20, reconcileTimeoutMs: 2000 });
      const usages: CallUsage[] = [];
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          target
            .complete({ messages: messages(`${TEXT} Call ${i}.`), signal: new AbortController().signal, onProgress: () => undefined, onText: () => undefined, onUsage: (u) => usages.push(u) })
            .catch(() => undefined),
        ),
      );
      const bill = fresh.bill();
      expect(usages.every((u) => !u.estimated)).toBe(true);
      expect(usages.length).toBe(bill.totals.generations);
      const nano = usages.reduce((sum, u) => sum + Math.round(u.costUsd * 1e9), 0);
      expect(nano).toBe(bill.totals.costNanoUsd);
      expect(usages.reduce((sum, u) => sum + u.completionTokens, 0)).toBe(bill.totals.completionTokens);
    } finally {
      await fresh.close();
    }
  });
});
