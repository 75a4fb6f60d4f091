import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../server/config.ts';
import { loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { parseRedisUrl } from './redis-connection.ts';

describe('Redis location', () => {
  it('parses redis+sentinel:// URLs: nodes, master name, credentials, database, Sentinel password', () => {
    expect(parseRedisUrl('redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-b:26380/mymaster/2?sentinelPassword=sp')).toMatchObject({
      db: 2,
      password: 's@cret',
      sentinel: { name: 'mymaster', nodes: [{ host: '10.0.0.1', port: 26379 }, { host: 'sentinel-b', port: 26380 }], password: 'sp' },
    });
    expect(parseRedisUrl('redis+sentinel://s1:26379/m')).toMatchObject({ db: 0, sentinel: { name: 'm', nodes: [{ host: 's1', port: 26379 }] } });
    expect(parseRedisUrl('redis://127.0.0.1:6380/1').sentinel).toBeUndefined();
    expect(() => parseRedisUrl('redis+sentinel://s1/m')).toThrow(/host:port/);
  });

  it('turns REDIS_SENTINELS + REDIS_SENTINEL_NAME into the same URL, keeping REDIS_URL\'s password and database', () => {
    const config = loadWorkerConfig({ REDIS_SENTINELS: 's1:26379, s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_URL: 'redis://:pw@ignored:6379/3', REDIS_SENTINEL_PASSWORD: 'x y' });
    expect(config.redisUrl).toBe('redis+sentinel://:pw@s1:26379,s2:26379/mymaster/3?sentinelPassword=x%20y');
    expect(parseRedisUrl(config.redisUrl)).toMatchObject({ db: 3, password: 'pw', sentinel: { name: 'mymaster', password: 'x y' } });
  });

  it('reports inconsistent Sentinel settings with the other problems', () => {
    expect(() => loadServerConfig({ REDIS_SENTINELS: 's1:26379' })).toThrow(/REDIS_SENTINEL_NAME/);
    expect(() => loadServerConfig({ REDIS_SENTINEL_NAME: 'm' })).toThrow(/REDIS_SENTINELS/);
    expect(() => loadServerConfig({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' })).toThrow(/host:port/);
    expect(() => loadServerConfig({ REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis+sentinel://s2:2/m' })).toThrow(/not both/);
  });

  it('reads the provider key from a file, never from both places', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atf-key-'));
    try {
      writeFileSync(join(dir, 'key'), 'sk-from-file\n');
      expect(loadWorkerConfig({ OPENROUTER_API_KEY_FILE: join(dir, 'key') }).openRouter?.apiKey).toBe('sk-from-file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => loadWorkerConfig({ OPENROUTER_API_KEY_FILE: '/nonexistent/key' })).toThrow(/cannot read/);
    expect(() => loadWorkerConfig({ OPENROUTER_API_KEY_FILE: '/dev/null' })).toThrow(/empty/);
    expect(() => loadWorkerConfig({ OPENROUTER_API_KEY_FILE: '/etc/hostname', OPENROUTER_API_KEY: 'k' })).toThrow(/not both/);
  });
});
