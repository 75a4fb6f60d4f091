/**
 * The model chain's scripts against a real Redis (docs/operations.md, "Model chains"): a
 * zombie attempt (its lease taken over) cannot move the task on in its chain, an ordinary
 * failure after a switch keeps the task's place but not the switch's reason, and a task's
 * usage log stays bounded however many calls it makes, while its sums count every call.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTaskChain, parseUsageLog, USAGE_LOG_MAX_CALLS } from '../schema/src/model-chain.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { createChainStore } from '../worker/chain-store.ts';
import { createTaskStore } from '../worker/task-store.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';

let redis: TestRedis;
const keys = createRedisKeys(`chain-${randomUUID().slice(0, 8)}`);
let repository: ReturnType<typeof createTaskRepository>;

const storeFor = (workerId: string, leaseMs = 60_000) => createTaskStore({ redis: redis.client, keys, workerId, leaseMs, maxEventsPerTask: 100 });
const chainStoreFor = (workerId: string) => createChainStore({ redis: redis.client, keys, workerId, maxEventsPerTask: 100 });

async function newTask(): Promise<string> {
  const id = randomUUID();
  await repository.create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Some text.', maxRetries: 3, idempotencyKey: null });
  return id;
}

const aSwitch = (index: number, countsRetry = false) => ({
  error: { errorClass: 'PROVIDER_ERROR' as const, message: 'the answer broke off', httpStatus: 200, attempt: 1 },
  retryDelayMs: 0,
  countsRetry,
  chain: { models: null, index, switchReason: 'STREAM_BROKEN' as const },
  reason: 'PROVIDER_ERROR',
});

beforeAll(async () => {
  redis = await startRedis();
  repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
});

afterAll(async () => {
  await redis?.dispose();
});

describe('taskSwitchModel', () => {
  it("refuses a zombie: an attempt whose lease was taken over moves neither the task's model nor its retries", async () => {
    const id = await newTask();
    const zombie = storeFor('zombie', 50);
    expect(await zombie.claim(id, 'zombie-token')).toMatchObject({ status: 'claimed', attempt: 1 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await storeFor('fresh').claim(id, 'fresh-token')).toMatchObject({ status: 'claimed', attempt: 2 });
    const before = (await repository.get(id))!;

    // Its stream broke: it would move the task to the next model, and to the first with a retry.
    expect(await chainStoreFor('zombie').switchModel({ taskId: id, tenant: 't', token: 'zombie-token' }, aSwitch(1))).toEqual({ status: 'stale', state: 'ACTIVE' });
    expect(await chainStoreFor('zombie').switchModel({ taskId: id, tenant: 't', token: 'zombie-token' }, aSwitch(0, true))).toEqual({ status: 'stale', state: 'ACTIVE' });

    const after = (await repository.get(id))!;
    expect(after).toMatchObject({ state: 'ACTIVE', version: before.version, retryCount: before.retryCount, attempt: 2, chain: null });
    expect(after.errors).toEqual(before.errors);

    // The lease holder's switch is what moves it.
    expect(await chainStoreFor('fresh').switchModel({ taskId: id, tenant: 't', token: 'fresh-token' }, aSwitch(2))).toMatchObject({ status: 'ok' });
    const moved = (await repository.get(id))!;
    expect(moved).toMatchObject({ state: 'SCHEDULED', retryCount: before.retryCount, waitReason: 'RETRY_DELAY' });
    expect(decodeTaskChain(moved.chain)).toEqual({ models: null, index: 2, switchReason: 'STREAM_BROKEN' });
  });
  it("forgets the switch's reason once the attempt it sent fails otherwise, keeping the task's place in its chain", async () => {
    const id = await newTask();
    const store = storeFor('worker');
    await store.claim(id, 'one');
    expect(await chainStoreFor('worker').switchModel({ taskId: id, tenant: 't', token: 'one' }, aSwitch(1))).toMatchObject({ status: 'ok' });
    expect(await store.claim(id, 'two')).toMatchObject({ status: 'claimed', attempt: 2 });
    const failed = await store.fail({ taskId: id, tenant: 't', token: 'two' }, {
      state: 'SCHEDULED',
      error: { errorClass: 'PROVIDER_ERROR', message: 'a 503 before any output', httpStatus: 503, attempt: 2 },
      retryDelayMs: 0,
      reason: 'PROVIDER_ERROR',
    });
    expect(failed).toMatchObject({ status: 'ok' });
    const record = (await repository.get(id))!;
    expect(record.retryCount).toBe(1);
    expect(decodeTaskChain(record.chain)).toEqual({ models: null, index: 1, switchReason: null });
  });
});

describe('the usage log', () => {
  it(`keeps the last ${USAGE_LOG_MAX_CALLS} calls of a task, while its sums count them all`, async () => {
    const id = await newTask();
    const store = storeFor('worker');
    await store.claim(id, 'token');
    const lease = { taskId: id, tenant: 't', token: 'token' };
    const calls = USAGE_LOG_MAX_CALLS + 7;
    for (let i = 1; i <= calls; i += 1) {
      const usage = { model: `vendor/m${i}`, generationId: `gen-${i}`, promptTokens: 1, completionTokens: 2, cachedTokens: 0, reasoningTokens: 0, costUsd: 0.000001, estimated: false, chainIndex: 0, switchReason: null };
      expect(await store.recordUsage(lease, 1, usage, null)).toBe(true);
    }
    const record = (await repository.get(id))!;
    const log = parseUsageLog(record.usageLog);
    expect(log).toHaveLength(USAGE_LOG_MAX_CALLS);
    expect(log[0]!.generationId).toBe(`gen-${calls - USAGE_LOG_MAX_CALLS + 1}`);
    expect(log.at(-1)!.generationId).toBe(`gen-${calls}`);
    expect(record).toMatchObject({ usageCalls: calls, usageCostNano: calls * 1000, usageModel: `vendor/m${calls}` });
  });
});
