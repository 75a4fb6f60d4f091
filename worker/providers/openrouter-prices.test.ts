import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorAnswer, startFakeOpenRouter, type FakeOpenRouter } from '../../tools/fake-openrouter.ts';
import { createPriceBook, parseModelPrices } from './openrouter-prices.ts';

let fake: FakeOpenRouter;
beforeAll(async () => {
  fake = await startFakeOpenRouter({ prices: { 'vendor/cheap': { promptUsd: 0.00000015, completionUsd: 0.0000006 }, 'vendor/free': { promptUsd: 0, completionUsd: 0 } } });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.scriptModels(null);
});

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('parseModelPrices', () => {
  it('reads per-token decimal strings and leaves out models without a usable price', () => {
    const prices = parseModelPrices({
      data: [
        { id: 'a/one', pricing: { prompt: '0.00000015', completion: '0.0000006', request: '0' } },
        { id: 'openrouter/auto', pricing: { prompt: '-1', completion: '-1' } },
        { id: 'a/broken', pricing: { prompt: 'n/a', completion: '0.1' } },
        { id: 'a/none' },
      ],
    });
    expect([...prices]).toEqual([['a/one', { promptUsd: 0.00000015, completionUsd: 0.0000006 }]]);
    expect(() => parseModelPrices({ models: [] })).toThrow(/data/);
  });
});

describe('createPriceBook', () => {
  it('prices models from the models endpoint, exactly as listed', async () => {
    const book = createPriceBook({ baseUrl: fake.baseUrl });
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.00000015, completionUsd: 0.0000006 });
    expect(await book.priceOf('vendor/free')).toEqual({ promptUsd: 0, completionUsd: 0 });
    expect(await book.priceOf('vendor/unknown')).toBeNull();
  });

  it('fetches the list once per TTL, one fetch for concurrent calls', async () => {
    const time = clock();
    const book = createPriceBook({ baseUrl: fake.baseUrl, ttlMs: 60_000, now: time.now });
    const before = fake.modelRequests.length;
    await Promise.all([book.priceOf('vendor/cheap'), book.priceOf('vendor/cheap'), book.priceOf('vendor/free')]);
    expect(fake.modelRequests.length - before).toBe(1);

    fake.setPrice('vendor/cheap', { promptUsd: 0.000001, completionUsd: 0.000002 });
    time.advance(59_999);
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.00000015, completionUsd: 0.0000006 });
    expect(fake.modelRequests.length - before).toBe(1);
    time.advance(1);
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.000001, completionUsd: 0.000002 });
    expect(fake.modelRequests.length - before).toBe(2);
    fake.setPrice('vendor/cheap', { promptUsd: 0.00000015, completionUsd: 0.0000006 });
  });

  it('falls back to the configured prices while the endpoint fails, and retries it after retryMs', async () => {
    const time = clock();
    const errors: unknown[] = [];
    fake.scriptModels(() => errorAnswer(503, 'down'));
    const fallback = { 'vendor/cheap': { promptUsd: 0.5, completionUsd: 1 }, 'vendor/local': { promptUsd: 0.25, completionUsd: 0.25 } };
    const book = createPriceBook({ baseUrl: fake.baseUrl, ttlMs: 60_000, retryMs: 5000, fallback, now: time.now, onError: (e) => errors.push(e) });
    const before = fake.modelRequests.length;
    expect(await book.priceOf('vendor/cheap')).toEqual(fallback['vendor/cheap']);
    expect(await book.priceOf('vendor/unknown')).toBeNull();
    expect(fake.modelRequests.length - before).toBe(1);
    expect(String(errors[0])).toMatch(/503/);

    fake.scriptModels(null);
    time.advance(4999);
    expect(await book.priceOf('vendor/cheap')).toEqual(fallback['vendor/cheap']);
    time.advance(1);
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.00000015, completionUsd: 0.0000006 });
    // A model the endpoint does not list keeps its configured price.
    expect(await book.priceOf('vendor/local')).toEqual(fallback['vendor/local']);
  });

  it('keeps the last list it had when the endpoint fails later, and survives a body that is not a list', async () => {
    const time = clock();
    const book = createPriceBook({ baseUrl: fake.baseUrl, ttlMs: 1000, fallback: { 'vendor/cheap': { promptUsd: 9, completionUsd: 9 } }, now: time.now });
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.00000015, completionUsd: 0.0000006 });
    fake.scriptModels(() => ({ status: 200, body: '<html>maintenance</html>' }));
    time.advance(1000);
    expect(await book.priceOf('vendor/cheap')).toEqual({ promptUsd: 0.00000015, completionUsd: 0.0000006 });
  });

  it('never rejects when the endpoint cannot be reached', async () => {
    const book = createPriceBook({ baseUrl: 'http://127.0.0.1:1/api/v1', fallback: { m: { promptUsd: 1, completionUsd: 2 } }, timeoutMs: 500 });
    expect(await book.priceOf('m')).toEqual({ promptUsd: 1, completionUsd: 2 });
  });
});
