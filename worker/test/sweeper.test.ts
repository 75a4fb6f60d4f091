/**
 * The sweeper finds tasks that no queue job will ever deliver and gets them done: a PENDING
 * task whose enqueue was lost, an ACTIVE task whose worker vanished with its job, and a
 * SCHEDULED task whose delayed job is gone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { startRedis, type TestRedis } from '../../test/support/redis-server.ts';
import { SAMPLE_TEXT, startWorker } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { startSweeper } from '../sweeper.ts';
import { createTaskStore } from '../task-store.ts';

let redis: TestRedis;
const keys = createRedisKeys();
let repository: ReturnType<typeof createTaskRepository>;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  redis = await startRedis();
  repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
  worker = await startWorker(redis.url, { SWEEP_INTERVAL_MS: '200', LEASE_MS: '300' });
});

afterAll(async () => {
  await worker?.stop(100);
  await redis?.dispose();
});

async function storedWithoutJob(): Promise<string> {
  const id = randomUUID();
  await repository.create({ id, tenant: 'default', type: 'SUMMARIZE', content: SAMPLE_TEXT, maxRetries: 3, idempotencyKey: null });
  return id;
}

const completed = (id: string) =>
  waitFor(async () => {
    const record = await repository.get(id);
    return record?.state === 'COMPLETED' ? record : null;
  }, { timeoutMs: 10_000, message: `${id} to complete` });

describe('sweeper', () => {
  it('queues a PENDING task whose enqueue was lost', async () => {
    const id = await storedWithoutJob();
    const record = await completed(id);
    expect(record.attempt).toBe(1);
    expect(record.errors).toEqual([]);
  });

  it('hands an ACTIVE task whose worker and job vanished to another attempt', async () => {
    const id = await storedWithoutJob();
    // A worker that claimed it and died; its job is gone too (removed as failed).
    const ghost = createTaskStore({ redis: redis.client, keys, workerId: 'ghost', leaseMs: 300, maxEventsPerTask: 100 });
    expect((await ghost.claim(id, 'ghost-lease')).status).toBe('claimed');
    const record = await completed(id);
    expect(record.attempt).toBe(2);
    expect(record.errors).toEqual([expect.objectContaining({ errorClass: 'STALLED', attempt: 1 })]);
    expect(await ghost.complete({ taskId: id, tenant: 'default', token: 'ghost-lease' }, 'late', null)).toEqual({ status: 'stale', state: 'COMPLETED' });
  });

  it('runs an overdue SCHEDULED task whose delayed job is gone', async () => {
    const id = await storedWithoutJob();
    const ghost = createTaskStore({ redis: redis.client, keys, workerId: 'ghost', leaseMs: 60_000, maxEventsPerTask: 100 });
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

  it('clears bee-queue ghosts: ids left in the active list after their job was deleted', async () => {
    // What a stall check racing a running job leaves behind after a Redis outage.
    const active = keys.beeQueueKey('primary', 'active');
    await redis.client.lpush(active, 'ghost-job-id');
    await waitFor(async () => !(await redis.client.lrange(active, 0, -1)).includes('ghost-job-id'), {
      timeoutMs: 5000,
      message: 'the ghost to be cleared',
    });
  });

  it('deletes finished tasks after TASK_RETENTION_HOURS, and keeps the DLQ', async () => {
    const short = await startWorker(redis.url, { SWEEP_INTERVAL_MS: '100', TASK_RETENTION_HOURS: '0.0002' });
    try {
      const done = await storedWithoutJob();
      await completed(done);
      const dead = await storedWithoutJob();
      const ghost = createTaskStore({ redis: redis.client, keys, workerId: 'ghost', leaseMs: 60_000, maxEventsPerTask: 100 });
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
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await repository.get(dead))?.state).toBe('DLQ');
    } finally {
      await short.stop(100);
    }
  });

  it('covers a backlog larger than one batch over successive passes', async () => {
    const own = createRedisKeys(`cursor-${randomUUID().slice(0, 6)}`);
    const ownRepository = createTaskRepository({ redis: redis.client, keys: own, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const id = randomUUID();
      await ownRepository.create({ id, tenant: 'default', type: 'SUMMARIZE', content: SAMPLE_TEXT, maxRetries: 3, idempotencyKey: null });
      ids.push(id);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const queued: string[] = [];
    const sweeper = startSweeper({
      redis: redis.client,
      keys: own,
      logger: testLogger('sweeper'),
      intervalMs: 10,
      batchSize: 2,
      retentionMs: 60_000,
      enqueue: async (taskId) => void queued.push(taskId),
      deleteTask: async () => false,
    });
    try {
      sweeper.dispose();
      for (let pass = 0; pass < 3; pass += 1) await sweeper.sweep();
      expect(new Set(queued)).toEqual(new Set(ids));
    } finally {
      sweeper.dispose();
    }
  });

  it('leaves healthy work alone', async () => {
    expect(await worker.sweep()).toBe(0);
  });
});
