import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, parseRedisUrl } from './redis-connection.ts';
import { isSupportedRedisVersion, MIN_REDIS_VERSION, RedisVersionError, redisVersionFromInfo, requireRedisVersion } from './redis-version.ts';
import { useSystem } from '../test/support/fixtures.ts';
import { startFakeRedis, type FakeRedis } from '../test/support/fake-redis.ts';

const system = useSystem({ server: false });

describe('the Redis version', () => {
  it('is read from INFO', () => {
    expect(redisVersionFromInfo('# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n')).toBe('7.0.15');
    expect(redisVersionFromInfo('# Server\r\nredis_mode:standalone\r\n')).toBeNull();
  });

  it(`is supported from ${MIN_REDIS_VERSION} on, part by part as numbers`, () => {
    for (const version of ['7.0.0', '7.0', '7', '7.2.4', '7.10.1', '8.0.2', '10.0.0', '255.255.255']) expect(isSupportedRedisVersion(version), version).toBe(true);
    for (const version of ['6.2.14', '6.9.99', '5.0.7', '2.8.24']) expect(isSupportedRedisVersion(version), version).toBe(false);
    for (const version of ['', 'unknown', 'v7.0.0']) expect(isSupportedRedisVersion(version), version).toBeNull();
  });
});

describe('requireRedisVersion', () => {
  let fake: FakeRedis | null = null;
  afterEach(async () => {
    await fake?.close();
    fake = null;
  });

  const connectTo = async (url: string) => {
    const client = createRedisClient(parseRedisUrl(url), { name: 'atf-version-test' });
    await client.connect();
    return client;
  };

  it('passes the test Redis, without a warning', async () => {
    const warnings: string[] = [];
    const version = await requireRedisVersion(system.redis.client, (warning) => warnings.push(warning));
    expect(isSupportedRedisVersion(version!)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('refuses a Redis 6.2, naming the version found and the one needed', async () => {
    fake = await startFakeRedis('6.2.14');
    const client = await connectTo(fake.url);
    try {
      const refused = await requireRedisVersion(client, () => undefined).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RedisVersionError);
      expect((refused as Error).message).toMatch(/^Redis 6\.2\.14 is too old: AsyncTaskFlow needs Redis 7\.0 or newer/);
    } finally {
      client.disconnect();
    }
  });

  it('lets a Redis whose version it cannot read through, with a warning', async () => {
    fake = await startFakeRedis('a-proxy');
    const client = await connectTo(fake.url);
    const warnings: string[] = [];
    try {
      expect(await requireRedisVersion(client, (warning) => warnings.push(warning))).toBe('a-proxy');
      expect(warnings.join('\n')).toMatch(/needs Redis 7\.0 or newer/);
    } finally {
      client.disconnect();
    }
  });
});
