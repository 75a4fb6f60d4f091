/**
 * The fake OpenRouter's bill and the shapes it reports it in (OpenRouter's "Usage Accounting",
 * "Get a generation" and "List models"), spoken to with plain fetch.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decimal, fakeCost, fakePromptTokens } from './fake-openrouter-billing.ts';
import { defaultAnswer, errorAnswer, startFakeOpenRouter, streamedAnswer, type FakeOpenRouter } from './fake-openrouter.ts';

const MODEL = 'vendor/model';
const PRICE = { promptUsd: 0.000003, completionUsd: 0.000015 };
const MESSAGES = [
  { role: 'system', content: 'Summarize.' },
  { role: 'user', content: 'Redis keeps data in memory. It is fast.' },
];

let fake: FakeOpenRouter;
beforeAll(async () => {
  fake = await startFakeOpenRouter({ prices: { [MODEL]: PRICE } });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.script(defaultAnswer);
  fake.scriptGenerations(null);
});

const chat = (body: Record<string, unknown>, init: RequestInit = {}) =>
  fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: MESSAGES, ...body }),
    ...init,
  });

const generation = (id: string, key = 'Bearer k') => fetch(`${fake.baseUrl}/generation?id=${id}`, { headers: { authorization: key } });

/** The `data:` payloads of an SSE body. */
const dataOf = (sse: string) => sse.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));

describe('fake OpenRouter: usage in answers', () => {
  it('bills a JSON answer and writes usage and cost into it, under the id of the X-Generation-Id header', async () => {
    fake.script((request) => ({ ...defaultAnswer(request), cachedTokens: 4, reasoningTokens: 2 }));
    const response = await chat({ stream: false });
    const body = (await response.json()) as { id: string; choices: { message: { content: string } }[]; usage: Record<string, unknown> };
    const id = response.headers.get('x-generation-id')!;
    expect(id).toMatch(/^gen-\d+-[\w-]+$/);
    expect(body.id).toBe(id);
    const promptTokens = fakePromptTokens({ messages: MESSAGES });
    const completionTokens = Math.ceil(body.choices[0]!.message.content.length / 4) + 2;
    expect(body.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      cost: fakeCost(PRICE, promptTokens, completionTokens),
      is_byok: false,
      prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
      cost_details: { upstream_inference_cost: null },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
    expect(fake.bill().generations.at(-1)).toMatchObject({ generationId: id, model: MODEL, promptTokens, completionTokens, completed: true, open: false, streamed: false });
  });

  it('puts the usage on the last chunk of a stream, before [DONE]', async () => {
    const response = await chat({ stream: true });
    const events = dataOf(await response.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { id: string; usage?: { cost: number; completion_tokens: number } });
    const id = response.headers.get('x-generation-id');
    expect(chunks.every((c) => c.id === id)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
    const record = fake.bill().generations.at(-1)!;
    expect(chunks.at(-1)!.usage).toMatchObject({ cost: record.costUsd, completion_tokens: record.completionTokens });
  });

  it('leaves the usage out when scripted to, and bills the call all the same', async () => {
    fake.script((request) => ({ ...defaultAnswer(request), omitUsage: true }));
    const events = dataOf(await (await chat({ stream: true })).text());
    expect(events.some((e) => e.includes('"usage"'))).toBe(false);
    expect(fake.bill().generations.at(-1)).toMatchObject({ completed: true });
  });

  it('bills nothing for an error status, and sends no generation id', async () => {
    fake.script(() => errorAnswer(429, 'Rate limited'));
    const before = fake.bill().totals.generations;
    const response = await chat({ stream: true });
    expect(response.status).toBe(429);
    expect(response.headers.get('x-generation-id')).toBeNull();
    expect(fake.bill().totals.generations).toBe(before);
  });
});

describe('fake OpenRouter: cut-off streams', () => {
  it('bills a stream that breaks for the prompt and the text sent before the break', async () => {
    const text = 'abcdefghij'.repeat(10);
    // Events: keep-alive, ten pieces of ten characters, the end, [DONE]; break after 4 pieces.
    fake.script((request) => ({ ...streamedAnswer(request, { chunks: 10, delayMs: 0, text }), breakAfterEvents: 5 }));
    const response = await chat({ stream: true });
    await response.text().catch(() => undefined);
    const record = fake.bill().generations.at(-1)!;
    expect(record).toMatchObject({ completed: false, cancelled: false, open: false, completionTokens: 10 });
    expect(record.costUsd).toBe(fakeCost(PRICE, record.promptTokens, 10));
  });

  it('bills a stream the caller cut off for what was sent, and reports exactly that at the generation endpoint', async () => {
    fake.script((request) => streamedAnswer(request, { chunks: 50, delayMs: 20 }));
    const controller = new AbortController();
    const response = await chat({ stream: true }, { signal: controller.signal });
    const id = response.headers.get('x-generation-id')!;
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    // Still being answered: OpenRouter does not know it yet either.
    expect((await generation(id)).status).toBe(404);
    controller.abort();
    await expect.poll(() => fake.bill().generations.find((g) => g.generationId === id)?.open).toBe(false);
    const record = fake.bill().generations.find((g) => g.generationId === id)!;
    expect(record).toMatchObject({ completed: false, cancelled: true });
    expect(record.completionTokens).toBeGreaterThan(0);

    const { data } = (await (await generation(id)).json()) as { data: Record<string, unknown> };
    expect(data).toMatchObject({
      id,
      model: MODEL,
      total_cost: record.costUsd,
      usage: record.costUsd,
      tokens_prompt: record.promptTokens,
      tokens_completion: record.completionTokens,
      native_tokens_prompt: record.promptTokens,
      native_tokens_completion: record.completionTokens,
      native_tokens_cached: 0,
      native_tokens_reasoning: 0,
      streamed: true,
      cancelled: true,
      finish_reason: null,
      is_byok: false,
    });
    expect(typeof data.created_at).toBe('string');
  });

  it('bills the prompt of a whole answer the caller left during the delay, and nothing for a stream not yet begun', async () => {
    fake.script((request) => ({ ...defaultAnswer(request), delayMs: 2000 }));
    await expect(chat({ stream: false }, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await expect.poll(() => fake.bill().generations.at(-1)?.open).toBe(false);
    const record = fake.bill().generations.at(-1)!;
    expect(record).toMatchObject({ completionTokens: 0, promptTokens: fakePromptTokens({ messages: MESSAGES }), cancelled: true, completed: false });

    const before = fake.bill().totals.generations;
    await expect(chat({ stream: true }, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(fake.bill().totals.generations).toBe(before);
  });
});

describe('fake OpenRouter: generation and models endpoints', () => {
  it('answers the generation endpoint with 404 for an unknown id, and 401 without a key', async () => {
    expect((await generation('gen-unknown')).status).toBe(404);
    expect((await generation('gen-unknown', '')).status).toBe(401);
  });

  it('lets a test override the generation endpoint', async () => {
    const response = await chat({ stream: false });
    const id = response.headers.get('x-generation-id')!;
    fake.scriptGenerations(() => errorAnswer(500, 'boom'));
    expect((await generation(id)).status).toBe(500);
    fake.scriptGenerations(null);
    expect((await generation(id)).status).toBe(200);
    expect(fake.generationRequests.length).toBeGreaterThanOrEqual(2);
  });

  it('lists the prices publicly as OpenRouter does: per-token decimal strings', async () => {
    fake.setPrice('vendor/tiny', { promptUsd: 1.5e-7, completionUsd: 6e-7 });
    const response = await fetch(`${fake.baseUrl}/models`);
    const { data } = (await response.json()) as { data: { id: string; pricing: Record<string, string> }[] };
    expect(data.find((m) => m.id === MODEL)!.pricing).toMatchObject({ prompt: '0.000003', completion: '0.000015', request: '0' });
    expect(data.find((m) => m.id === 'vendor/tiny')!.pricing).toMatchObject({ prompt: '0.00000015', completion: '0.0000006' });
  });

  it('adds up its bill in integer nano-dollars', () => {
    const bill = fake.bill();
    expect(bill.totals.generations).toBe(bill.generations.length);
    expect(bill.totals.costNanoUsd).toBe(bill.generations.reduce((sum, g) => sum + g.costNanoUsd, 0));
    expect(bill.totals.costUsd).toBe(bill.totals.costNanoUsd / 1e9);
  });
});

describe('decimal', () => {
  it('writes prices without exponents, parsing back to the same number', () => {
    for (const usd of [0, 1e-7, 1.5e-7, 0.000003, 1.23456789e-9, 2]) {
      expect(decimal(usd)).not.toMatch(/e/i);
      expect(Number(decimal(usd))).toBe(usd);
    }
  });
});

describe('fake OpenRouter: models', () => {
  const A = 'vendor/a';
  const B = 'vendor/b';
  afterAll(() => {
    for (const model of [A, B]) fake.setModel(model, null);
    fake.setServerFallback(true);
  });

  it('falls back over the models parameter before any output: one answer, one bill, named after the model that served', async () => {
    fake.setModel(A, { down: true });
    const before = fake.bill().generations.length;
    const response = await chat({ model: A, models: [A, B], stream: true });
    const chunks = dataOf(await response.text()).slice(0, -1).map((e) => JSON.parse(e) as { model: string });
    expect(chunks.every((c) => c.model === B)).toBe(true);
    expect(fake.requests.at(-1)).toMatchObject({ servedModel: B, modelTries: [{ model: A, status: 503 }, { model: B, status: 200 }] });
    expect(fake.bill().generations.slice(before).map((g) => g.model)).toEqual([B]);
    fake.setModel(A, null);
  });

  it('answers with the last error when every model fails, and with the first one without server fallback', async () => {
    fake.setModel(A, { rateLimited: true });
    fake.setModel(B, { down: true });
    expect((await chat({ model: A, models: [A, B] })).status).toBe(503);
    fake.setServerFallback(false);
    expect((await chat({ model: A, models: [A, B] })).status).toBe(429);
    fake.setServerFallback(true);
    fake.setModel(A, null);
    fake.setModel(B, null);
  });

  it('refuses a prompt over a model\'s context with OpenRouter\'s 400, and flagged content with a 403', async () => {
    fake.setModel(A, { maxContextTokens: 2 });
    const long = await chat({ model: A });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: { message: string } }).error.message).toMatch(/maximum context length is 2 tokens/);
    fake.setModel(A, { contentFilter: /Redis/ });
    const flagged = await chat({ model: A });
    expect(flagged.status).toBe(403);
    expect(((await flagged.json()) as { error: { message: string } }).error.message).toMatch(/flagged/);
    fake.setModel(A, null);
  });

  it('cuts a stream after N text chunks, billing what it sent', async () => {
    fake.setModel(A, { chunks: 6, breakAfterChunks: 2 });
    const response = await chat({ model: A, stream: true, messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve.' }] });
    const text = await response.text().catch(() => '');
    expect(dataOf(text).length).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.bill().generations.at(-1)).toMatchObject({ model: A, completed: false, open: false });
    fake.setModel(A, null);
  });

  it('fails a share of calls with the statuses given', async () => {
    fake.setModel(A, { failRate: 0.5, failStatuses: [502] });
    const statuses = await Promise.all(Array.from({ length: 40 }, () => chat({ model: A }).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200, 502]));
    fake.setModel(A, null);
  });
});
