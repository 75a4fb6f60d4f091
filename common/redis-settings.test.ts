import { describe, expect, it } from 'vitest';
import { useSystem } from '../test/support/fixtures.ts';
import { redisSettingWarnings } from './redis-settings.ts';

const plain = useSystem({ server: false });
const durable = useSystem({ server: false, redis: { appendOnly: true } });

describe('redisSettingWarnings', () => {
  it('warns about a Redis without AOF, or one that may evict, and is quiet about a safe one', async () => {
    expect(await redisSettingWarnings(durable.redis.client)).toEqual([]);
    expect((await redisSettingWarnings(plain.redis.client)).join('\n')).toMatch(/appendonly/);
    await durable.redis.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect((await redisSettingWarnings(durable.redis.client)).join('\n')).toMatch(/allkeys-lru/);
  });
});
