/**
 * The fenced task scripts against a real Redis: leases, stale writes, stalls and budgets.
 * These are the guarantees bee-queue does not give (a zombie worker that was judged stalled
 * still finishes its job; see docs/reliability.md, "The guarantees, in plain words").
 */
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { TaskPriority } from '../schema/src/dispatch.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { encodeBeeQueueJob } from '../common/bee-queue.ts';
import { QueueName, createRedisKeys } from '../schema/src/redis-keys.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { parseTaskStats } from '../schema/src/task-stats.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { waitFor } from './support/wait-for.ts';
import { createTaskStore, type TaskStore } from '../worker/task-store.ts';
import { taskScriptCall } from '../schema/src/scripts/kit/call.ts';
import { defineTaskScript } from '../schema/src/scripts/kit/define.ts';

let redis: TestRedis;
const keys = createRedisKeys(`store-${randomUUID().slice(0, 8)}`);
let repository: ReturnType<typeof createTaskRepository>;
const stores: Record<string, TaskStore> = {};

const storeFor = (workerId: string, leaseMs = 60_000) =>
  createTaskStore({ redis: redis.client, keys, workerId, leaseMs, maxEventsPerTask: 100 });

async function newTask(maxRetries = 2): Promise<string> {
  const id = randomUUID();
  await repository.create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Some text.', maxRetries, idempotencyKey: null });
  return id;
}

beforeAll(async () => {
  redis = await startRedis();
  repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
  stores.a = storeFor('worker-a');
  stores.b = storeFor('worker-b');
});

afterAll(async () => {
  await redis?.dispose();
});

describe('create', () => {
  it("queues the task's job in the same step, as bee-queue's own save would", async () => {
    const id = randomUUID();
    const job = encodeBeeQueueJob({ taskId: id }, { timeoutMs: 1234 });
    const outcome = await repository.create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Queued with it.', maxRetries: 1, idempotencyKey: null, job });
    expect(outcome.status).toBe('created');
    expect(await redis.client.lrange(keys.beeQueueKey(QueueName.PRIMARY, 'waiting'), 0, -1)).toContain(id);
    const stored = JSON.parse((await redis.client.hget(keys.beeQueueKey(QueueName.PRIMARY, 'jobs'), id))!) as Record<string, unknown>;
    expect(stored).toMatchObject({ data: { taskId: id }, options: { timeout: 1234, timestamp: expect.any(Number), stacktraces: [] }, status: 'created' });

    // A task made without a job is stored unqueued (the sweeper's tests rely on it).
    const bare = await newTask();
    expect(await redis.client.hexists(keys.beeQueueKey(QueueName.PRIMARY, 'jobs'), bare)).toBe(0);
  });
});

describe('an idempotency key', () => {
  it('answers a resend with the same priority with its task, and one with another priority as a conflict', async () => {
    const send = (priority?: TaskPriority) =>
      repository.create({ id: randomUUID(), tenant: 't', type: 'SUMMARIZE', content: 'Keyed.', maxRetries: 1, idempotencyKey: 'priority-key', ...(priority ? { priority } : {}) });
    const first = await send(TaskPriority.HIGH);
    if (first.status !== 'created') throw new Error(`not created: ${first.status}`);
    const taskId = first.taskId;
    expect(await send(TaskPriority.HIGH)).toEqual({ status: 'existing', taskId });
    expect(await send()).toEqual({ status: 'conflict', taskId });
    expect(await send(TaskPriority.LOW)).toEqual({ status: 'conflict', taskId });
  });
});

describe('leases and fencing', () => {
  it('lets only the lease holder write, and a second claim waits for the lease', async () => {
    const id = await newTask();
    const claim = await stores.a!.claim(id, 'token-a');
    expect(claim).toMatchObject({ status: 'claimed', attempt: 1 });
    expect(await stores.b!.claim(id, 'token-b')).toMatchObject({ status: 'busy' });
    expect(await stores.b!.complete({ taskId: id, tenant: 't', token: 'token-b' }, 'not mine', null)).toEqual({ status: 'stale', state: 'ACTIVE' });
    expect(await stores.a!.progress({ taskId: id, tenant: 't', token: 'token-a' }, 0.5)).toMatchObject({ status: 'ok' });
    expect(await stores.a!.complete({ taskId: id, tenant: 't', token: 'token-a' }, 'mine', null)).toMatchObject({ status: 'ok' });
    // Terminal is final: a second completion and a late failure change nothing.
    expect(await stores.a!.complete({ taskId: id, tenant: 't', token: 'token-a' }, 'again', null)).toEqual({ status: 'stale', state: 'COMPLETED' });
    const record = await repository.get(id);
    expect(record).toMatchObject({ state: 'COMPLETED', result: 'mine', version: 4, progress: 1 });
    expect(await stores.b!.claim(id, 'token-c')).toEqual({ status: 'unclaimable', state: 'COMPLETED' });
  });

  it('rejects the zombie: a worker whose lease expired and was taken over cannot finish (bee-queue trap 1: double terminal)', async () => {
    const id = await newTask();
    const zombie = storeFor('zombie', 50);
    expect(await zombie.claim(id, 'zombie-token')).toMatchObject({ status: 'claimed', attempt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await stores.b!.claim(id, 'fresh-token')).toMatchObject({ status: 'claimed', attempt: 2 });
    expect(await zombie.renew({ taskId: id, tenant: 't', token: 'zombie-token' })).toEqual({ held: false });
    expect(await zombie.complete({ taskId: id, tenant: 't', token: 'zombie-token' }, 'late', null)).toEqual({ status: 'stale', state: 'ACTIVE' });
    expect(await stores.b!.complete({ taskId: id, tenant: 't', token: 'fresh-token' }, 'on time', null)).toMatchObject({ status: 'ok' });

    const record = (await repository.get(id))!;
    expect(record).toMatchObject({ state: 'COMPLETED', result: 'on time', retryCount: 1, attempt: 2 });
    expect(record.errors).toEqual([expect.objectContaining({ errorClass: 'STALLED', attempt: 1 })]);
    const events = await repository.events(id);
    expect(events.filter((event) => event.state === 'COMPLETED')).toHaveLength(1);
    expect(events.map((event) => event.version)).toEqual(events.map((_, i) => i + 1));
  });

  it('sends a task that keeps losing its worker to the DLQ once its budget is spent', async () => {
    const id = await newTask(1);
    const flaky = storeFor('flaky', 20);
    expect(await flaky.claim(id, 't1')).toMatchObject({ status: 'claimed', attempt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await flaky.claim(id, 't2')).toMatchObject({ status: 'claimed', attempt: 2 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await flaky.claim(id, 't3')).toEqual({ status: 'exhausted' });
    const record = (await repository.get(id))!;
    expect(record.state).toBe('DLQ');
    expect(record.errors.map((e) => e.errorClass)).toEqual(['STALLED', 'STALLED']);
    expect(await redis.client.zscore(keys.tasksInState('DLQ'), id)).not.toBeNull();
    expect(await redis.client.zscore(keys.tasksInState('ACTIVE'), id)).toBeNull();
  });

  it('sends it there through the dispatcher too, filed as STALLED (the one dead-letter class a pick is passed)', async () => {
    // Keys of its own: the pick takes the best waiting task of any tenant, and earlier tests left some.
    const own = createRedisKeys(`stalls-${randomUUID().slice(0, 8)}`);
    const ownRepository = createTaskRepository({ redis: redis.client, keys: own, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
    const id = randomUUID();
    await ownRepository.create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Some text.', maxRetries: 1, idempotencyKey: null });
    const flaky = createTaskStore({ redis: redis.client, keys: own, workerId: 'flaky-dispatch', leaseMs: 20, maxEventsPerTask: 100 });
    const ticket = { taskId: id, tenant: 't', lane: 'retry' as const };
    expect((await flaky.dispatch(ticket, 'd1', 0.3)).outcome).toMatchObject({ status: 'claimed', taskId: id, attempt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect((await flaky.dispatch(ticket, 'd2', 0.3)).outcome).toMatchObject({ status: 'claimed', taskId: id, attempt: 2 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect((await flaky.dispatch(ticket, 'd3', 0.3)).outcome.status).not.toBe('claimed');
    const record = (await ownRepository.get(id))!;
    expect(record).toMatchObject({ state: 'DLQ', dlqClass: 'STALLED' });
    expect(await redis.client.zscore(own.deadLetterByClass('STALLED'), id)).not.toBeNull();
    expect(await redis.client.zscore(own.tasksInState('ACTIVE'), id)).toBeNull();
  });

  it('refuses, before writing, a move between states whose indexes the script was not passed', async () => {
    const id = await newTask();
    const before = (await repository.get(id))!;
    // A script that declares only PENDING (so only PENDING's indexes are sent) but moves the task on.
    const wrong = defineTaskScript({ states: ['PENDING'], keys: [], args: [], body: `return commit(read_task(), { state = 'ACTIVE' }, 'transition', 'test')`, decode: (reply) => reply });
    const call = taskScriptCall(wrong, keys, { taskId: id, tenant: 't', at: Date.now() }, { maxEvents: 100, actor: 'test' }, {}, {});
    await expect(redis.client.eval(wrong.lua, call.keys.length, ...call.keys, ...call.args)).rejects.toThrow(/UNDECLARED PENDING>ACTIVE/);
    expect(await repository.get(id)).toEqual(before);
    expect(await redis.client.xlen(keys.taskEvents(id))).toBe(1);
  });

  it('keeps each task in exactly one state index through every transition', async () => {
    const id = await newTask();
    const inIndexes = async () => {
      const states = ['PENDING', 'ACTIVE', 'SCHEDULED', 'COMPLETED', 'DLQ', 'CANCELLED'] as const;
      const hits = await Promise.all(states.map((s) => redis.client.zscore(keys.tasksInState(s), id)));
      return states.filter((_, i) => hits[i] !== null);
    };
    expect(await inIndexes()).toEqual(['PENDING']);
    await stores.a!.claim(id, 'x');
    expect(await inIndexes()).toEqual(['ACTIVE']);
    await stores.a!.fail({ taskId: id, tenant: 't', token: 'x' }, {
      state: 'SCHEDULED',
      error: { errorClass: 'NETWORK_TIMEOUT', message: 'timeout', httpStatus: null, attempt: 1 },
      retryDelayMs: 150,
      reason: 'NETWORK_TIMEOUT',
    });
    expect(await inIndexes()).toEqual(['SCHEDULED']);
    const scheduled = (await repository.get(id))!;
    expect(scheduled).toMatchObject({ retryCount: 1, nextAttemptAt: expect.any(Number) });
    // No job may cut the retry delay short (a stray lease check, a takeover).
    expect(await stores.a!.claim(id, 'early')).toEqual({ status: 'early', nextAttemptAt: scheduled.nextAttemptAt });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await stores.a!.claim(id, 'y')).status).toBe('claimed');
    expect(await inIndexes()).toEqual(['ACTIVE']);
    await stores.a!.complete({ taskId: id, tenant: 't', token: 'y' }, 'done', { model: 'm', promptTokens: 1, completionTokens: 2, totalTokens: 3 });
    expect(await inIndexes()).toEqual(['COMPLETED']);
    expect((await repository.get(id))!.usage).toEqual({ model: 'm', promptTokens: 1, completionTokens: 2, totalTokens: 3 });
  });

  it('publishes every change with the version it produced, once, on the all-tasks channel', async () => {
    const id = await newTask();
    const subscriber = redis.client.duplicate();
    const versions: number[] = [];
    await subscriber.subscribe(keys.tasksChannel());
    subscriber.on('message', (_channel, message) => {
      const event = JSON.parse(message) as { id: string; version: string };
      if (event.id === id) versions.push(Number(event.version));
    });
    await stores.a!.claim(id, 'p');
    await stores.a!.progress({ taskId: id, tenant: 't', token: 'p' }, 0.3);
    await stores.a!.complete({ taskId: id, tenant: 't', token: 'p' }, 'ok', null);
    await waitFor(() => versions.length === 3, { message: 'three events' });
    expect(versions).toEqual([2, 3, 4]);
    subscriber.disconnect();
  });

  it('lets exactly one of cancel and complete win when they race', async () => {
    const winners = { COMPLETED: 0, CANCELLED: 0 };
    for (let i = 0; i < 40; i += 1) {
      const id = await newTask();
      await stores.a!.claim(id, 'race');
      const [completed, cancelled] = await Promise.all([
        stores.a!.complete({ taskId: id, tenant: 't', token: 'race' }, 'done', null),
        repository.cancel({ id, tenant: 't' }, 'operator', TransitionReason.CANCELLED_BY_OPERATOR),
      ]);
      expect([completed.status === 'ok', cancelled.status === 'ok'].filter(Boolean)).toHaveLength(1);
      const record = (await repository.get(id))!;
      winners[record.state as keyof typeof winners] += 1;
      const terminal = (await repository.events(id)).filter((event) => event.state === 'COMPLETED' || event.state === 'CANCELLED');
      expect(terminal).toHaveLength(1);
      expect(record.state).toBe(completed.status === 'ok' ? 'COMPLETED' : 'CANCELLED');
    }
    expect(winners.COMPLETED + winners.CANCELLED).toBe(40);
  });

  it('keeps the dead-letter class index in step with DLQ entry, retry and delete', async () => {
    const id = await newTask(0);
    await stores.a!.claim(id, 'd');
    await stores.a!.fail({ taskId: id, tenant: 't', token: 'd' }, {
      state: 'DLQ',
      error: { errorClass: 'PERMANENT', message: 'bad', httpStatus: 400, attempt: 1 },
      retryDelayMs: null,
      reason: 'PERMANENT',
    });
    expect(await redis.client.zscore(keys.deadLetterByClass('PERMANENT'), id)).not.toBeNull();
    expect((await repository.reopen({ id, tenant: 't' }, 'op', { resetRetryCount: true, reason: TransitionReason.RETRIED_BY_OPERATOR })).status).toBe('ok');
    expect(await redis.client.zscore(keys.deadLetterByClass('PERMANENT'), id)).toBeNull();
    expect((await repository.get(id))!).toMatchObject({ state: 'PENDING', retryCount: 0, dlqClass: null });
    expect((await repository.reopen({ id, tenant: 't' }, 'op', { resetRetryCount: false, reason: TransitionReason.RETRIED_BY_OPERATOR })).status).toBe('conflict');
    expect(await repository.remove(id, 'op')).toBe(true);
    expect(await repository.remove(id, 'op')).toBe(false);
    expect(await stores.a!.claim(id, 'late')).toEqual({ status: 'missing' });
    expect(await redis.client.exists(keys.task(id), keys.taskEvents(id))).toBe(0);
  });
});

describe('bookkeeping the scripts keep for readers', () => {
  it('counts every transition in the stats hash, once per field and per event', async () => {
    const before = await redis.client.hgetall(keys.taskStats());
    const id = await newTask();
    await stores.a!.claim(id, 's');
    expect(await stores.b!.complete({ taskId: id, tenant: 't', token: 'not-s' }, 'no', null)).toMatchObject({ status: 'stale' });
    await stores.a!.complete({ taskId: id, tenant: 't', token: 's' }, 'done', null);
    const after = await redis.client.hgetall(keys.taskStats());
    const delta = (field: string) => Number(after[field] ?? 0) - Number(before[field] ?? 0);
    expect(delta('submitted:SUMMARIZE')).toBe(1);
    expect(delta('entered:PENDING')).toBe(1);
    expect(delta('entered:ACTIVE')).toBe(1);
    expect(delta('entered:COMPLETED')).toBe(1);
    expect(delta('completed:SUMMARIZE')).toBe(1);
    expect(delta('stale_writes')).toBe(1);
    const counted = (fields: Record<string, string>, name: 'wait' | 'duration') => parseTaskStats(fields)[name].count;
    for (const name of ['wait', 'duration'] as const) {
      expect(counted(after, name) - counted(before, name)).toBe(1);
      const buckets = Object.keys(after).filter((field) => field.startsWith(`${name}:le:`));
      expect(buckets.reduce((sum, field) => sum + delta(field), 0)).toBe(1);
      expect(after[`${name}:sum_ms`]).toMatch(/^\d+$/);
    }
  });

  it('adds to a counter that HINCRBY refuses (a fraction) and to one past 2^53 as it adds to any other', async () => {
    const own = createRedisKeys(`stats-${randomUUID().slice(0, 8)}`);
    const ownRepository = createTaskRepository({ redis: redis.client, keys: own, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
    await redis.client.hset(own.taskStats(), 'submitted:SUMMARIZE', '2.5', 'entered:PENDING', '9007199254740993');
    await ownRepository.create({ id: randomUUID(), tenant: 't', type: 'SUMMARIZE', content: 'Counted.', maxRetries: 1, idempotencyKey: null });
    expect(await redis.client.hmget(own.taskStats(), 'submitted:SUMMARIZE', 'entered:PENDING')).toEqual(['3.5', '9007199254740994']);
  });

  it('gives a flow bucket its expiry when it first counts a transition', async () => {
    const id = await newTask();
    await stores.a!.claim(id, 'f');
    const buckets = await redis.client.keys(`${keys.taskFlowPrefix()}*`);
    expect(buckets.length).toBeGreaterThan(0);
    for (const bucket of buckets) expect(await redis.client.pttl(bucket)).toBeGreaterThan(60 * 60 * 1000);
  });

  it('finishes the bee-queue job in the completion, whatever its outcome', async () => {
    const [active, stalling, jobs] = ['active', 'stalling', 'jobs'].map((suffix) => `${keys.prefix}:bq:test:${suffix}`);
    const finish = (jobId: string) => ({ keys: { jobActive: active!, jobStalling: stalling!, jobs: jobs! }, id: jobId });
    const id = await newTask();
    await redis.client.multi().lpush(active!, 'other', id).sadd(stalling!, id).hset(jobs!, id, '{}', 'other', '{}').exec();
    await stores.a!.claim(id, 'j');
    expect(await stores.a!.complete({ taskId: id, tenant: 't', token: 'j' }, 'done', null, finish(id))).toMatchObject({ status: 'ok' });
    expect(await redis.client.lrange(active!, 0, -1)).toEqual(['other']);
    expect(await redis.client.sismember(stalling!, id)).toBe(0);
    expect(await redis.client.hkeys(jobs!)).toEqual(['other']);
    // A stale completion (another delivery of the same task) still finishes its own job.
    await redis.client.multi().lpush(active!, `${id}:again`).hset(jobs!, `${id}:again`, '{}').exec();
    expect(await stores.b!.complete({ taskId: id, tenant: 't', token: 'late' }, 'late', null, finish(`${id}:again`))).toEqual({ status: 'stale', state: 'COMPLETED' });
    expect(await redis.client.lrange(active!, 0, -1)).toEqual(['other']);
    expect(await redis.client.hkeys(jobs!)).toEqual(['other']);
  });
});

describe('live output', () => {
  const lease = (id: string, token: string) => ({ taskId: id, tenant: 't', token });
  const stored = async (id: string) => (await redis.client.xrange(keys.taskOutput(id), '-', '+')).map(([entryId, fields]) => [entryId, fields[1], fields[3]]);

  it('appends only after the bytes the writer knows are there, so a resent append writes once', async () => {
    const id = await newTask();
    await stores.a!.claim(id, 'o');
    expect(await stores.a!.appendOutput(lease(id, 'o'), 'Hello', 0)).toEqual({ status: 'ok', seq: 1 });
    // The same append again (its reply was lost and ioredis resent it): nothing changes.
    expect(await stores.a!.appendOutput(lease(id, 'o'), 'Hello', 0)).toEqual({ status: 'moved', bytes: 5 });
    expect(await stores.a!.appendOutput(lease(id, 'o'), ' world', 5)).toEqual({ status: 'ok', seq: 2 });
    expect(await stored(id)).toEqual([
      ['1-1', 'Hello', 'r'],
      ['1-2', ' world', '-'],
    ]);
    // A stale writer appends nothing.
    expect(await stores.b!.appendOutput(lease(id, 'not-mine'), '!', 11)).toEqual({ status: 'stale', state: 'ACTIVE' });
    await stores.a!.complete(lease(id, 'o'), 'Hello world!', null, undefined, { text: '!', reset: false, streamedBytes: 11 });
    expect((await stored(id)).at(-1)).toEqual(['1-3', '!', 'f']);
  });

  it('ends with the whole result when the stream is not what the worker knows it wrote', async () => {
    const id = await newTask();
    await stores.a!.claim(id, 'p');
    await stores.a!.appendOutput(lease(id, 'p'), 'Sum', 0);
    // An append the worker gave up on (it timed out) ran after all.
    await stores.a!.appendOutput(lease(id, 'p'), 'mary', 3);
    await stores.a!.complete(lease(id, 'p'), 'Summary.', null, undefined, { text: 'mary.', reset: false, streamedBytes: 3 });
    expect((await stored(id)).at(-1)).toEqual(['1-3', 'Summary.', 'rf']);
  });
});
