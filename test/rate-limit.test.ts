/**
 * The provider rate limit shared by three workers: no window ever sees more calls than the
 * bucket allows, a change of the limit in Redis takes effect without a restart, and a 429
 * with Retry-After holds every worker's calls, not only the one that got it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { defaultAnswer, errorAnswer, startFakeOpenRouter, type FakeOpenRouter } from '../tools/fake-openrouter.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { getTask, SAMPLE_TEXT, startServer, startWorker, submitTask, type RunningServer } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const keys = createRedisKeys();
let redis: TestRedis;
let server: RunningServer;
let fake: FakeOpenRouter;
let workers: Awaited<ReturnType<typeof startWorker>>[] = [];

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeOpenRouter();
  server = await startServer(redis.url);
  for (let i = 0; i < 3; i += 1) {
    workers.push(
      await startWorker(redis.url, {
        OPENROUTER_API_KEY: 'sk-test',
        OPENROUTER_BASE_URL: fake.baseUrl,
        WORKER_CONCURRENCY: '4',
        PROVIDER_RATE_LIMIT: '5/1s',
        CIRCUIT_VOLUME_THRESHOLD: '100000',
      }),
    );
  }
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop(100)));
  workers = [];
  await server?.stop();
  await fake?.close();
  await redis?.dispose();
});

/** The most calls seen in any window of `windowMs` among these request times. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

const allComplete = (ids: string[], timeoutMs = 30_000) =>
  waitFor(async () => (await Promise.all(ids.map((id) => getTask(server, id)))).every((task) => task?.state === 'COMPLETED'), {
    timeoutMs,
    intervalMs: 100,
    message: 'every task to complete',
  });

describe('shared provider rate limit', () => {
  it('never lets more calls through than capacity plus refill in any window, across three workers', { timeout: 60_000 }, async () => {
    fake.script(defaultAnswer);
    const before = fake.requests.length;
    const ids = await Promise.all(Array.from({ length: 25 }, (_, i) => submitTask(server, `${SAMPLE_TEXT} Limited ${i}.`).then((t) => t.id)));
    await allComplete(ids);
    const times = fake.requests.slice(before).map((request) => request.at);
    expect(times).toHaveLength(25);
    // 5 per second with a bucket of 5: any one-second window holds at most 5 + 5 calls.
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(10);
    // And the limit did hold the work back: 20 calls past the first burst need 4 seconds.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(3500);
    for (const id of ids) expect((await getTask(server, id))!.errors).toEqual([]);
  });

  it('follows a new limit set in Redis without a restart', { timeout: 60_000 }, async () => {
    await redis.client.set(keys.providerRateLimit(), '50/1s');
    // Workers re-read the override every 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5200));
    const before = fake.requests.length;
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => submitTask(server, `${SAMPLE_TEXT} Faster ${i}.`).then((t) => t.id)));
    await allComplete(ids);
    const times = fake.requests.slice(before).map((request) => request.at);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(2500);
    await redis.client.del(keys.providerRateLimit());
  });

  it('holds every worker\'s calls after a 429 with Retry-After', { timeout: 60_000 }, async () => {
    let sentLimit = false;
    fake.script((request) => {
      if (!sentLimit) {
        sentLimit = true;
        // 800 s, scaled like every delay (RETRY_DELAY_SCALE 0.001): 800 ms for everyone.
        return { ...errorAnswer(429, 'Rate limit exceeded'), headers: { 'retry-after': '800' } };
      }
      return defaultAnswer(request);
    });
    const first = await submitTask(server, `${SAMPLE_TEXT} Gets the 429.`);
    await waitFor(() => fake.requests.some((request) => JSON.stringify(request.body).includes('Gets the 429.')), { message: 'the 429' });
    const limitedAt = fake.requests.find((request) => JSON.stringify(request.body).includes('Gets the 429.'))!.at;
    const others = await Promise.all(Array.from({ length: 6 }, (_, i) => submitTask(server, `${SAMPLE_TEXT} After the 429 ${i}.`).then((t) => t.id)));
    await allComplete([first.id, ...others]);
    const later = fake.requests.filter((request) => request.at > limitedAt);
    expect(later.length).toBeGreaterThanOrEqual(7);
    expect(Math.min(...later.map((request) => request.at)) - limitedAt).toBeGreaterThanOrEqual(750);
  });
});
