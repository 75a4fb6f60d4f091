/**
 * The attempt's last provider call recorded by its completion (issue 25), against a real Redis:
 * once (ledger entry, task sums, hour counters) however often the completion is sent, a stale
 * completion's call too, and through the worker's Attempt: a held call's usage goes with the
 * completion, or through taskRecordUsage on every other way the attempt ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { parseUsageLog } from '../schema/src/model-chain.ts';
import { toNanoUsd, type CallUsage } from '../schema/src/usage.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { Attempt } from '../worker/attempt.ts';
import { createTaskStore, type CarriedCall, type Lease, type TaskStore } from '../worker/task-store.ts';
import { callUsage } from './support/call-usage.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';

let redis: TestRedis;
const keys = createRedisKeys(`usage-complete-${randomUUID().slice(0, 8)}`);
let repository: ReturnType<typeof createTaskRepository>;
let store: TaskStore;

beforeAll(async () => {
  redis = await startRedis();
  repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
  store = createTaskStore({ redis: redis.client, keys, workerId: 'w', leaseMs: 60_000, maxEventsPerTask: 100 });
});

afterAll(async () => {
  await redis?.dispose();
});

/** A claimed task of its own tenant (so the hour's counters are the test's alone). */
async function claimed(): Promise<Lease> {
  const id = randomUUID();
  const tenant = `t-${randomUUID().slice(0, 8)}`;
  await repository.create({ id, tenant, apiKeyId: 'key', type: 'SUMMARIZE', content: 'Some text.', maxRetries: 2, idempotencyKey: null });
  const lease = { taskId: id, tenant, token: randomUUID() };
  expect((await store.claim(id, lease.token, tenant)).status).toBe('claimed');
  return lease;
}

/** What the usage record left: the task's ledger entries, its sums and log, its tenant's hour counters. */
async function recorded(lease: Lease) {
  const ledger = (await redis.client.xrange(keys.usageLedger(), '-', '+')).filter(([, fields]) => fields[fields.indexOf('taskId') + 1] === lease.taskId);
  const task = await redis.client.hgetall(keys.task(lease.taskId));
  const now = Date.now();
  const hour = await redis.client.hgetall(keys.usageHour(now - (now % 3_600_000)));
  const counter = (metric: string) => Number(hour[`${lease.tenant}\tkey\tmodel/a\t${metric}`] ?? 0);
  return {
    ledger: ledger.length,
    calls: Number(task.usageCalls ?? 0),
    costNano: Number(task.usageCostNano ?? 0),
    log: parseUsageLog(task.usageLog).length,
    hour: { tasks: counter('tasks'), calls: counter('calls'), costNano: counter('costNano') },
    state: task.state,
    version: Number(task.version),
  };
}

const carried = (call: Partial<CarriedCall> & { usage: CallUsage }): CarriedCall => ({ attempt: 1, reservationId: null, wasPending: false, callId: '', onceKey: '', ...call });
/** One call of $0.000123457, recorded once. */
const once = { ledger: 1, calls: 1, log: 1, hour: { tasks: 1, calls: 1, costNano: toNanoUsd(0.000123457) } };

describe('a completion that carries its call', () => {
  it('records the call once with the transition: ledger entry, task sums and log, hour counters', async () => {
    const lease = await claimed();
    const call = carried({ usage: callUsage(0.000123457), onceKey: randomUUID() });
    expect(await store.complete(lease, 'done', null, undefined, undefined, call)).toMatchObject({ status: 'ok' });
    expect(await recorded(lease)).toMatchObject({ ...once, costNano: toNanoUsd(0.000123457), state: 'COMPLETED' });
    const task = await repository.get(lease.taskId);
    expect(task).toMatchObject({ usageCalls: 1, usagePromptTokens: 100, usageCompletionTokens: 40, usageModel: 'model/a' });
    // The once key is a fence, not data: no event shows it.
    const events = await redis.client.xrange(keys.taskEvents(lease.taskId), '-', '+');
    expect(events.every(([, fields]) => !fields.join('\n').includes(call.onceKey))).toBe(true);
  });

  it('records it once when sent again (a lost reply): by its once key, or its pending record', async () => {
    const lease = await claimed();
    const call = carried({ usage: callUsage(0.000123457), onceKey: randomUUID() });
    expect((await store.complete(lease, 'done', null, undefined, undefined, call)).status).toBe('ok');
    const first = await recorded(lease);
    expect(await store.complete(lease, 'done', null, undefined, undefined, call)).toEqual({ status: 'stale', state: 'COMPLETED' });
    expect(await recorded(lease)).toEqual(first);
    // ... and after a completion given up on: the attempt records it through taskRecordUsage, with the same key.
    expect(await store.recordUsage(lease, 1, call.usage, null, false, '', call.onceKey)).toBe(false);
    expect(await recorded(lease)).toEqual(first);

    const written = await claimed();
    const callId = randomUUID();
    await store.registerPendingCall(callId, { taskId: written.taskId, tenant: written.tenant, attempt: 1, model: 'model/a', at: Date.now(), reservationId: null, promptTokens: 100, generationId: null });
    const pending = carried({ usage: callUsage(0.000123457), callId, wasPending: true });
    expect((await store.complete(written, 'done', null, undefined, undefined, pending)).status).toBe('ok');
    expect((await store.complete(written, 'done', null, undefined, undefined, pending)).status).toBe('stale');
    expect(await recorded(written)).toMatchObject(once);
    expect(await redis.client.hexists(keys.usagePending(), callId)).toBe(0);
  });

  it('records the call of a stale completion, which changes nothing else', async () => {
    const lease = await claimed();
    const before = await recorded(lease);
    const stale = { ...lease, token: 'not-the-lease' };
    const call = carried({ usage: callUsage(0.000123457), onceKey: randomUUID() });
    expect(await store.complete(stale, 'late', null, undefined, undefined, call)).toEqual({ status: 'stale', state: 'ACTIVE' });
    expect(await recorded(lease)).toMatchObject({ ...once, state: 'ACTIVE', version: before.version });
    // Sent again: still once.
    await store.complete(stale, 'late', null, undefined, undefined, call);
    expect(await recorded(lease)).toMatchObject(once);
    // The lease holder's own completion carries no call: the task completes, its sums stay.
    expect((await store.complete(lease, 'done', null)).status).toBe('ok');
    expect(await recorded(lease)).toMatchObject({ ...once, state: 'COMPLETED' });
  });
});

describe("the attempt's held usage", () => {
  const attemptOf = (lease: Lease) => new Attempt(lease, { attempt: 1 } as never, pino({ level: 'silent' }), store, 60_000, { flushMs: 50, flushChars: 256, maxBytes: 1 << 20 }, 'model/a');

  it('gives the completion the last call only; the earlier ones are recorded on their own', async () => {
    const lease = await claimed();
    const attempt = attemptOf(lease);
    attempt.onUsage(callUsage(0.01));
    attempt.onUsage(callUsage(0.02));
    const call = attempt.takeUsage();
    expect(call).toMatchObject({ attempt: 1, usage: { costUsd: 0.02 }, onceKey: expect.any(String) });
    await attempt.settle();
    expect(await recorded(lease)).toMatchObject({ ledger: 1, calls: 1, costNano: toNanoUsd(0.01) });
    expect((await store.complete(lease, 'done', null, undefined, undefined, call)).status).toBe('ok');
    expect(await recorded(lease)).toMatchObject({ ledger: 2, calls: 2, costNano: toNanoUsd(0.01) + toNanoUsd(0.02), hour: { tasks: 1, calls: 2 } });
    attempt.dispose();
  });

  it('records a held call when the attempt ends without completing (settle), and one given back after a failed completion', async () => {
    const lease = await claimed();
    const attempt = attemptOf(lease);
    attempt.onUsage(callUsage(0.01));
    await attempt.settle();
    expect(await recorded(lease)).toMatchObject({ ledger: 1, calls: 1 });

    attempt.onUsage(callUsage(0.02));
    const call = attempt.takeUsage()!;
    attempt.restoreUsage(call);
    await attempt.settle();
    expect(await recorded(lease)).toMatchObject({ ledger: 2, calls: 2, costNano: toNanoUsd(0.01) + toNanoUsd(0.02) });
    attempt.dispose();
  });
});
