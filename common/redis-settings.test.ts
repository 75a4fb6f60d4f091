import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/support/redis-server.ts';
import { redisSettingWarnings } from './redis-settings.ts';

let plain: TestRedis;
let durable: TestRedis;

beforeAll(async () => {
  [plain, durable] = await Promise.all([startRedis(), startRedis({ appendOnly: true })]);
});

afterAll(async () => {
  await Promise.all([plain?.dispose(), durable?.dispose()]);
});

describe('redisSettingWarnings', () => {
  it('warns about a Redis without AOF, or one that may evict, and is quiet about a safe one', async () => {
    expect(await redisSettingWarnings(durable.client)).toEqual([]);
    expect((await redisSettingWarnings(plain.client)).join('\n')).toMatch(/appendonly/);
    await durable.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect((await redisSettingWarnings(durable.client)).join('\n')).toMatch(/allkeys-lru/);
  });
});
