/**
 * The sweeper finds tasks that no queue job will ever deliver and gets them done: a PENDING
 * task whose enqueue was lost, an ACTIVE task whose worker vanished with its job, and a
 * SCHEDULED task whose delayed job is gone. And it leaves work that is on its way alone.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../schema/src/job-ids.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { defaultAnswer, errorAnswer } from '../../tools/fake-openrouter.ts';
import { randomPrefix, useSystem, type TaskRepository } from '../../test/support/fixtures.ts';
import { fakeProviderEnv, SAMPLE_TEXT, submitTask, waitForTask } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { startSweeper } from '../sweeper.ts';
import { createTaskStore } from '../task-store.ts';
import { pendingCallCodec, type PendingCall } from '../../schema/src/scripts/usage.ts';
import type { CallUsage } from '../../schema/src/usage.ts';

const system = useSystem({ server: false, worker: { SWEEP_INTERVAL_MS: '200', LEASE_MS: '300' } });

async function storedWithoutJob(repository: TaskRepository = system.repository()): Promise<string> {
  const id = randomUUID();
  await repository.create({ id, tenant: 'default', type: 'SUMMARIZE', content: SAMPLE_TEXT, maxRetries: 3, idempotencyKey: null });
  return id;
}

const completed = (id: string) =>
  waitFor(async () => {
    const record = await system.repository().get(id);
    return record?.state === 'COMPLETED' ? record : null;
  }, { timeoutMs: 10_000, message: `${id} to complete` });

/** Redis' clock, in ms: the sweeper's own. */
const redisNowMs = async () => {
  const [seconds, micros] = await system.redis.client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
};

describe('sweeper', () => {
  it('queues a PENDING task whose enqueue was lost', async () => {
    const id = await storedWithoutJob();
    const record = await completed(id);
    expect(record.attempt).toBe(1);
    expect(record.errors).toEqual([]);
  });

  it('gives work waiting in its line a ticket when every job that would start it was lost', async () => {
    // A deployment of its own, with no worker yet: the task is in its tenant's line with its job,
    // as a submit leaves it; then the job is lost (a worker that pulled it failed on a Redis error
    // and bee-queue dropped it as failed).
    const keys = createRedisKeys(randomPrefix('lost-ticket'));
    const { client } = system.redis;
    const id = randomUUID();
    const job = JSON.stringify({ data: { taskId: id, tenant: 'default', queued: true }, options: { timestamp: Date.now(), stacktraces: [] }, status: 'created' });
    await system.repository(keys).create({ id, tenant: 'default', type: 'SUMMARIZE', content: SAMPLE_TEXT, maxRetries: 3, idempotencyKey: null, cost: 10, job });
    await client.hdel(keys.beeQueueKey('primary', 'jobs'), id);
    await client.lrem(keys.beeQueueKey('primary', 'waiting'), 0, id);
    // Nothing but the sweep can start it now.
    await system.startWorker({ REDIS_KEY_PREFIX: keys.prefix, SWEEP_INTERVAL_MS: '200' });
    const record = await waitFor(async () => {
      const task = await system.repository(keys).get(id);
      return task?.state === 'COMPLETED' ? task : null;
    }, { timeoutMs: 10_000, message: 'the task whose job was lost to complete' });
    expect(record.attempt).toBe(1);
  });

  it('hands an ACTIVE task whose worker and job vanished to another attempt', async () => {
    const id = await storedWithoutJob();
    // A worker that claimed it and died; its job is gone too (removed as failed).
    const ghost = system.taskStore('ghost', { leaseMs: 300 });
    expect((await ghost.claim(id, 'ghost-lease')).status).toBe('claimed');
    const record = await completed(id);
    expect(record.attempt).toBe(2);
    expect(record.errors).toEqual([expect.objectContaining({ errorClass: 'STALLED', attempt: 1 })]);
    expect(await ghost.complete({ taskId: id, tenant: 'default', token: 'ghost-lease' }, 'late', null)).toEqual({ status: 'stale', state: 'COMPLETED' });
  });

  it('runs an overdue SCHEDULED task whose delayed job is gone', async () => {
    const id = await storedWithoutJob();
    const ghost = system.taskStore('ghost');
    await ghost.claim(id, 'g');
    await ghost.fail({ taskId: id, tenant: 'default', token: 'g' }, {
      state: 'SCHEDULED',
      error: { errorClass: 'NETWORK_TIMEOUT', message: 'timeout', httpStatus: null, attempt: 1 },
      retryDelayMs: 0,
      reason: 'NETWORK_TIMEOUT',
    });
    const record = await completed(id);
    expect(record.retryCount).toBe(1);
    expect(record.attempt).toBe(2);
  });

  it('runs an overdue SCHEDULED task whose delayed job bee-queue never raised', async () => {
    const id = await storedWithoutJob();
    const ghost = system.taskStore('ghost');
    await ghost.claim(id, 'd');
    await ghost.fail({ taskId: id, tenant: 'default', token: 'd' }, {
      state: 'SCHEDULED',
      error: { errorClass: 'NETWORK_TIMEOUT', message: 'timeout', httpStatus: null, attempt: 1 },
      retryDelayMs: 0,
      reason: 'NETWORK_TIMEOUT',
    });
    // Its delayed job exists, due long ago, but nothing raises it: what a Redis restart that lost
    // bee-queue's delayed timer leaves (the job was stored by hand, with no timer armed for it).
    const jobId = jobIds.retry(id, 1);
    const { keys, redis } = system;
    await redis.client
      .multi()
      .hset(keys.beeQueueKey('retry', 'jobs'), jobId, JSON.stringify({ data: { taskId: id }, options: { timestamp: 0, delay: 1, stacktraces: [] }, status: 'created' }))
      .zadd(keys.beeQueueKey('retry', 'delayed'), 1, jobId)
      .exec();
    const record = await completed(id);
    expect(record.attempt).toBe(2);
    // Raised by the sweeper's own job, not bee-queue's delayed one.
    expect(await redis.client.zscore(keys.beeQueueKey('retry', 'delayed'), jobId)).not.toBeNull();
  });

  it('clears bee-queue ghosts: ids left in the active list after their job was deleted', async () => {
    // What a stall check racing a running job leaves behind after a Redis outage.
    const active = system.keys.beeQueueKey('primary', 'active');
    await system.redis.client.lpush(active, 'ghost-job-id');
    await waitFor(async () => !(await system.redis.client.lrange(active, 0, -1)).includes('ghost-job-id'), {
      timeoutMs: 5000,
      message: 'the ghost to be cleared',
    });
  });

  it('deletes finished tasks after TASK_RETENTION_HOURS, and keeps the DLQ', async () => {
    const { redis, keys } = system;
    const repository = system.repository();
    const RETENTION_MS = 0.0002 * 3_600_000;
    const short = await system.startWorker({ SWEEP_INTERVAL_MS: '100', TASK_RETENTION_HOURS: '0.0002' });
    const done = await storedWithoutJob();
    await completed(done);
    const dead = await storedWithoutJob();
    const ghost = system.taskStore('ghost');
    await ghost.claim(dead, 'x');
    await ghost.fail({ taskId: dead, tenant: 'default', token: 'x' }, {
      state: 'DLQ',
      error: { errorClass: 'PERMANENT', message: 'no', httpStatus: 400, attempt: 1 },
      retryDelayMs: null,
      reason: 'PERMANENT',
    });
    await waitFor(async () => (await repository.get(done)) === null, { timeoutMs: 5000, message: 'the finished task to expire' });
    expect(await redis.client.exists(keys.taskEvents(done))).toBe(0);
    expect(await redis.client.zscore(keys.tasksAll(), done)).toBeNull();
    expect(await redis.client.zscore(keys.tasksFinished(), done)).toBeNull();
    // Once the DLQ task is older than the retention too, a whole pass leaves it alone.
    const deadAt = Number(await redis.client.hget(keys.task(dead), 'updatedAt'));
    await waitFor(async () => (await redisNowMs()) > deadAt + RETENTION_MS, { message: 'the DLQ task to be past retention' });
    await short.sweep();
    expect((await repository.get(dead))?.state).toBe('DLQ');
  });

  it('covers a backlog larger than one batch over successive passes', async () => {
    const own = createRedisKeys(randomPrefix('cursor'));
    const ownRepository = system.repository(own);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await storedWithoutJob(ownRepository));
    const SWEEP_INTERVAL_MS = 10;
    // The sweeper takes a PENDING task for lost once it is older than one interval.
    const newest = Math.max(...(await Promise.all(ids.map(async (id) => Number(await system.redis.client.hget(own.task(id), 'updatedAt'))))));
    await waitFor(async () => (await redisNowMs()) > newest + SWEEP_INTERVAL_MS, { message: 'the backlog to be older than one interval' });
    const queued: string[] = [];
    const sweeper = startSweeper({
      redis: system.redis.client,
      keys: own,
      logger: testLogger('sweeper'),
      intervalMs: SWEEP_INTERVAL_MS,
      batchSize: 2,
      retentionMs: 60_000,
      enqueue: async (taskId) => void queued.push(taskId),
      deleteTask: async () => false,
    });
    // Passes run by hand only.
    sweeper.dispose();
    for (let pass = 0; pass < 3; pass += 1) await sweeper.sweep();
    expect(new Set(queued)).toEqual(new Set(ids));
  });

  it('records each orphaned call once: exactly when the provider named it and knows it, else at its estimate, flagged', async () => {
    const keys = createRedisKeys(randomPrefix('orphans'));
    const redis = system.redis.client;
    const store = createTaskStore({ redis, keys, workerId: 'sweeper-test', leaseMs: 1000, maxEventsPerTask: 100 });
    const AFTER_MS = 1000;
    const call = (over: Partial<PendingCall>): PendingCall => ({
      taskId: randomUUID(), tenant: 'default', attempt: 1, model: 'm/x', at: Date.now() - 2 * AFTER_MS, reservationId: null, promptTokens: 40, generationId: null, ...over,
    });
    const calls = {
      unnamed: call({}),
      named: call({ generationId: 'gen-known' }),
      // Named, but the provider does not know it yet: asked again until twice the orphan time.
      recording: call({ generationId: 'gen-recording', at: Date.now() - 1.5 * AFTER_MS }),
      young: call({ at: Date.now() }),
    };
    for (const [callId, record] of Object.entries(calls)) await redis.hset(keys.usagePending(), callId, pendingCallCodec.encode(record));
    const exact = (generationId: string): CallUsage => ({ model: 'm/x', generationId, promptTokens: 40, completionTokens: 12, cachedTokens: 0, reasoningTokens: 0, costUsd: 0.000123, estimated: false });
    const sweeper = startSweeper({
      redis,
      keys,
      logger: testLogger('sweeper'),
      intervalMs: 60_000,
      batchSize: 10,
      retentionMs: 60_000,
      enqueue: async () => undefined,
      deleteTask: async () => false,
      orphanCalls: {
        afterMs: AFTER_MS,
        usageOf: async (generationId) => (generationId === 'gen-known' ? exact(generationId) : null),
        estimate: async (pending) => ({ model: pending.model, generationId: pending.generationId, promptTokens: pending.promptTokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, costUsd: 0.00004, estimated: true }),
        record: (callId, pending, usage) => store.recordUsage({ taskId: pending.taskId, tenant: pending.tenant, token: '' }, pending.attempt, usage, pending.reservationId, true, callId),
      },
    });
    sweeper.dispose();
    await sweeper.sweep();
    const entries = async () =>
      (await redis.xrange(keys.usageLedger(), '-', '+')).map(([, f]) => ({ callId: f[f.indexOf('callId') + 1], generationId: f[f.indexOf('generationId') + 1], estimated: f[f.indexOf('estimated') + 1], costNano: f[f.indexOf('costNano') + 1] }));
    expect(await entries()).toEqual(
      expect.arrayContaining([
        { callId: 'unnamed', generationId: '', estimated: '1', costNano: '40000' },
        { callId: 'named', generationId: 'gen-known', estimated: '0', costNano: '123000' },
      ]),
    );
    expect(await entries()).toHaveLength(2);
    expect((await redis.hkeys(keys.usagePending())).sort()).toEqual(['recording', 'young']);

    // Past twice the orphan time, the call the provider never reported is estimated, with its generation id.
    await redis.hset(keys.usagePending(), 'recording', pendingCallCodec.encode({ ...calls.recording, at: Date.now() - 3 * AFTER_MS }));
    await sweeper.sweep();
    expect((await entries()).at(-1)).toEqual({ callId: 'recording', generationId: 'gen-recording', estimated: '1', costNano: '40000' });
    // Its worker, woken, finds the call recorded: nothing more.
    expect(await store.recordUsage({ taskId: calls.recording.taskId, tenant: 'default', token: 'old' }, 1, exact('gen-recording'), null, true, 'recording')).toBe(false);
    expect(await entries()).toHaveLength(3);
    expect(await redis.hkeys(keys.usagePending())).toEqual(['young']);
    expect(await redis.hget(keys.usageTotals(), 'default\tm/x\testimatedCostNano')).toBe('80000');
  });

  it('leaves healthy work alone: a task under a live, renewed lease, one waiting for a slot, one waiting out its retry delay', async () => {
    // A deployment of its own: one slot, a lease much shorter than the provider call, and a
    // sweeper that passes several times per lease.
    const prefix = randomPrefix('healthy');
    const keys = createRedisKeys(prefix);
    const LEASE_MS = 300;
    const fake = await system.startFake();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    fake.script(async (request) => {
      const text = JSON.stringify(request.body);
      if (text.includes('RETRY-LATER')) return errorAnswer(503, 'No instances available');
      // The held call answers when the test says so: the task stays ACTIVE, its lease renewed.
      if (text.includes('HOLD-ME')) await released;
      return defaultAnswer(request);
    });
    const server = await system.startServer({ REDIS_KEY_PREFIX: prefix });
    const worker = await system.startWorker({
      REDIS_KEY_PREFIX: prefix,
      ...fakeProviderEnv(fake),
      WORKER_CONCURRENCY: '1',
      LEASE_MS: String(LEASE_MS),
      SWEEP_INTERVAL_MS: '100',
      // The retry is due in 10 minutes (scaled by RETRY_DELAY_SCALE 0.001 from 10 000 minutes).
      RETRY_SCHEDULES: JSON.stringify({ SERVICE_UNAVAILABLE: { delaysMs: [600_000_000], maxRetries: 1 } }),
    });

    const scheduled = await submitTask(server, `${SAMPLE_TEXT} RETRY-LATER.`);
    await waitForTask(server, scheduled.id, 'SCHEDULED');
    const held = await submitTask(server, `${SAMPLE_TEXT} HOLD-ME.`);
    await waitForTask(server, held.id, 'ACTIVE');
    await waitFor(() => fake.requests.some((request) => JSON.stringify(request.body).includes('HOLD-ME')), { message: 'the held call' });
    // The only slot is taken: this one waits, its job queued.
    const waiting = await submitTask(server, `${SAMPLE_TEXT} Waits for the slot.`);

    // Sweep again and again while the held task outlives three leases by renewing its own:
    // a sweeper that took a live lease (or a queued or scheduled task) for lost would re-queue it.
    const leaseOf = async () => Number(await system.redis.client.hget(keys.task(held.id), 'leaseExpiresAt'));
    const firstLease = await leaseOf();
    let requeued = 0;
    let sweeps = 0;
    await waitFor(
      async () => {
        requeued += await worker.sweep();
        sweeps += 1;
        return (await leaseOf()) > firstLease + 3 * LEASE_MS;
      },
      { intervalMs: 30, message: 'the held task to renew its lease past three leases' },
    );
    expect(sweeps).toBeGreaterThan(5);
    expect(requeued).toBe(0);

    // All three are still where they were, with their jobs.
    const states = await Promise.all([held, waiting, scheduled].map(async (task) => system.redis.client.hget(keys.task(task.id), 'state')));
    expect(states).toEqual(['ACTIVE', 'PENDING', 'SCHEDULED']);
    expect(await system.redis.client.lrange(keys.beeQueueKey('primary', 'active'), 0, -1)).toContain(jobIds.submitted(held.id));
    expect(await system.redis.client.hexists(keys.beeQueueKey('primary', 'jobs'), jobIds.submitted(waiting.id))).toBe(1);
    expect(await system.redis.client.hexists(keys.beeQueueKey('retry', 'jobs'), jobIds.retry(scheduled.id, 1))).toBe(1);

    release();
    for (const task of [held, waiting]) {
      const done = await waitForTask(server, task.id, 'COMPLETED');
      // One attempt, by this worker, never taken for stalled.
      expect(done.errors).toEqual([]);
      expect(done.history.filter((h) => h.state === 'ACTIVE').map((h) => h.workerId)).toEqual([worker.workerId]);
    }
    expect((await waitForTask(server, scheduled.id, 'SCHEDULED')).retryCount).toBe(1);
  });
});
