/** The REST probes, and what the API does while Redis is down. */
import { describe, expect, it } from 'vitest';
import { expectErrors, REDIS_OUTAGE_ERRORS, useSystem } from '../../test/support/fixtures.ts';
import { graphql, SAMPLE_TEXT, submitTask, subscribe } from '../../test/support/system.ts';
import { elapse, waitFor } from '../../test/support/wait-for.ts';

// AOF on, so tasks survive the restarts below.
const system = useSystem({ redis: { appendOnly: true }, server: { WORKER_STALE_MS: '1000' } });

const get = async (path: string, on: { url: string } = system.server) => {
  const response = await fetch(`${on.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('health routes', () => {
  it('answers /live, /ready and /health while everything is up', async () => {
    expect(await get('/live')).toEqual({ status: 200, body: { status: 'alive' } });
    await waitFor(async () => (await get('/ready')).status === 200, { message: '/ready 200' });

    const noWorkers = await get('/health');
    expect(noWorkers.status).toBe(200);
    expect(noWorkers.body).toMatchObject({
      status: 'degraded',
      components: { redis: { status: 'up' }, workers: { status: 'down', alive: 0 }, queues: { status: 'up', primary: 0, retry: 0 } },
    });

    const worker = await system.startWorker();
    const healthy = await waitFor(async () => {
      const health = await get('/health');
      return health.body.status === 'healthy' ? health : null;
    }, { message: 'a healthy report' });
    expect(healthy.body.components).toMatchObject({ workers: { status: 'up', alive: 1 } });
    await worker.stop();
    // A stopped worker removes its heartbeat at once.
    expect((await get('/health')).body).toMatchObject({ components: { workers: { alive: 0 } } });
  });

  it('answers 404 with JSON for unknown paths', async () => {
    const response = await fetch(`${system.server.url}/nope`);
    expect(response.status).toBe(404);
  });
});

describe('while Redis is down', () => {
  it('keeps /live at 200, turns /ready to 503, fails submits fast with UNAVAILABLE, and recovers', async () => {
    const { redis, server, keys } = system;
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is stopped on purpose');
    await redis.stop();
    try {
      expect((await get('/live')).status).toBe(200);
      await waitFor(async () => (await get('/ready')).status === 503, { message: '/ready 503' });
      const ready = await get('/ready');
      expect(ready.body).toEqual({ status: 'not ready' });

      const health = await get('/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'unhealthy', components: { redis: { status: 'down' } } });
      expect(JSON.stringify(health.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|redis:\/\//);

      const started = Date.now();
      const response = await graphql(server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
        input: { content: SAMPLE_TEXT },
      });
      expect(Date.now() - started).toBeLessThan(2500);
      expect(response.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
      expect(JSON.stringify(response)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Stream isn't writeable/);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await get('/ready')).status === 200, { timeoutMs: 15_000, message: '/ready back to 200' });
    // No ghost: the rejected submit left nothing behind.
    expect(await redis.client.zcard(keys.tasksAll())).toBe(0);

    // The restarted Redis has an empty script cache: submits store and queue tasks again once
    // every connection is back, without restarting anything.
    const waiting = keys.beeQueueKey('primary', 'waiting');
    await waitFor(async () => {
      const response = await graphql<{ submitTask: { id: string } }>(server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
        input: { content: SAMPLE_TEXT },
      });
      const id = response.data?.submitTask.id;
      return id !== undefined && (await redis.client.lrange(waiting, 0, -1)).includes(id);
    }, { timeoutMs: 10_000, intervalMs: 100, message: 'an accepted and queued submit' });
  });

  it('keeps open subscriptions through an outage, then delivers what happened after it', async () => {
    const { redis } = system;
    const watching = await system.startServer({ SUBSCRIPTION_RESYNC_MS: '100', WORKER_STALE_MS: '1000' });
    const client = system.wsClient(watching);
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is stopped on purpose');
    const task = await submitTask(watching, `${SAMPLE_TEXT} Outage.`);
    const live = subscribe<{ state: string; version: number }>(client, `subscription ($id: ID!) { taskUpdated(id: $id) { state version } }`, { id: task.id }, 'taskUpdated');
    await live.waitFor((event) => event.state === 'PENDING');
    // On another task, so that leaving sends its own UNSUBSCRIBE to Redis.
    const other = await submitTask(watching, `${SAMPLE_TEXT} Other.`);
    const leaving = subscribe<{ state: string }>(client, `subscription ($id: ID!) { taskUpdated(id: $id) { state } }`, { id: other.id }, 'taskUpdated');
    await leaving.waitFor((event) => event.state === 'PENDING');

    await redis.stop();
    await waitFor(async () => (await get('/ready', watching)).status === 503, { message: 'the server to notice the outage' });
    // The outage itself is what is tested: resync ticks (every 100 ms) and reconnect attempts
    // keep failing through it, and a client leaves midway (its UNSUBSCRIBE cannot reach
    // Redis). None of it may end the other watch or the process. The windows are long
    // enough for several ticks before the client leaves and several reconnect attempts
    // (whose backoff grows) after it.
    const BEFORE_LEAVING_MS = 500;
    const AFTER_LEAVING_MS = 2000;
    await elapse(BEFORE_LEAVING_MS);
    leaving.dispose();
    await elapse(AFTER_LEAVING_MS);
    await redis.start();

    await system.startWorker();
    await live.waitFor((event) => event.state === 'COMPLETED', 20_000);
    expect(live.errors).toEqual([]);
    expect(live.completed).toBe(false);
    const versions = live.events.map((event) => event.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    live.dispose();
  });
});
