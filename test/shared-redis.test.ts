/**
 * Two deployments on one Redis, told apart by REDIS_KEY_PREFIX: each one's tasks run only on
 * its own workers, and every key and pub/sub channel (bee-queue's included) carries its prefix.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../server/config.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, SAMPLE_TEXT, submitTask, subscribe, type RunningServer, type TestWorker } from './support/system.ts';

// Two deployments, each its own server and worker under its own prefix, built below.
const system = useSystem({ server: false });
const deployments: { prefix: string; server: RunningServer; worker: TestWorker }[] = [];

beforeAll(async () => {
  for (const prefix of ['alpha', 'beta']) {
    const env = { REDIS_KEY_PREFIX: prefix };
    deployments.push({ prefix, server: await system.startServer(env), worker: await system.startWorker(env) });
  }
});

describe('REDIS_KEY_PREFIX', () => {
  it('keeps two deployments on one Redis apart: keys, channels and workers', async () => {
    const [alpha, beta] = deployments as [(typeof deployments)[0], (typeof deployments)[0]];
    const client = system.wsClient(alpha.server);
    const task = await submitTask(alpha.server, `${SAMPLE_TEXT} Shared Redis.`);
    const live = subscribe<{ state: string }>(client, 'subscription ($id: ID!) { taskUpdated(id: $id) { state } }', { id: task.id }, 'taskUpdated');
    await live.waitFor((event) => event.state === 'COMPLETED');

    // Only alpha's worker ran it; beta does not know the task at all.
    const done = (await getTask(alpha.server, task.id))!;
    expect(done.history.filter((h) => h.state === 'ACTIVE').map((h) => h.workerId)).toEqual([alpha.worker.workerId]);
    expect(await getTask(beta.server, task.id)).toBeNull();

    const channels = (await system.redis.client.pubsub('CHANNELS', '*')) as string[];
    expect(channels.length).toBeGreaterThan(0);
    expect(channels.filter((channel) => !/^(alpha|beta):/.test(channel))).toEqual([]);
    // The server listens on the one channel every task change goes to, not one per task.
    expect(channels).toContain('alpha:events:tasks');
    expect(channels.some((channel) => channel.startsWith('beta:bq:'))).toBe(true);
    const keys = await system.redis.client.keys('*');
    expect(keys.filter((key) => !/^(alpha|beta):/.test(key))).toEqual([]);
    live.dispose();
  });

  it('still reads the deprecated REDIS_PREFIX, with a warning, and refuses two different prefixes', () => {
    const config = loadServerConfig({ REDIS_PREFIX: 'old' });
    expect(config.redisPrefix).toBe('old');
    expect(config.warnings).toEqual([expect.stringContaining('REDIS_KEY_PREFIX')]);
    expect(loadServerConfig({ REDIS_KEY_PREFIX: 'new', REDIS_PREFIX: 'new' }).redisPrefix).toBe('new');
    expect(() => loadServerConfig({ REDIS_KEY_PREFIX: 'new', REDIS_PREFIX: 'old' })).toThrow(/REDIS_PREFIX/);
  });
});
