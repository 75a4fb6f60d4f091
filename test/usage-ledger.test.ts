/**
 * The usage ledger and counters against a real Redis, through the scripts the worker calls and
 * the API that reads them: every call is recorded once whatever became of its attempt (a stale
 * worker's too), sums are exact to the nano-dollar, and `usage(...)` groups without reading calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { toNanoUsd, type CallUsage } from '../schema/src/usage.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { createTaskStore } from '../worker/task-store.ts';
import { callUsage } from './support/call-usage.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { graphql, startServer, type RunningServer } from './support/system.ts';

const keys = createRedisKeys();
let redis: TestRedis;
let server: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  server = await startServer(redis.url);
});

afterAll(async () => {
  await server?.stop();
  await redis?.dispose();
});

const call = (model: string, costUsd: number, extra: Partial<CallUsage> = {}): CallUsage => callUsage(costUsd, { model, generationId: `gen-${randomUUID()}`, ...extra });

describe('usage ledger', () => {
  it('records every call once, stale ones too, with exact sums per task, tenant, key, model and day', async () => {
    const repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
    const store = createTaskStore({ redis: redis.client, keys, workerId: 'w', leaseMs: 60_000, maxEventsPerTask: 100 });
    const zombie = createTaskStore({ redis: redis.client, keys, workerId: 'zombie', leaseMs: 60_000, maxEventsPerTask: 100 });
    const tasks = await Promise.all(
      ['acme', 'acme', 'globex'].map(async (tenant, i) => {
        const id = randomUUID();
        await repository.create({ id, tenant, apiKeyId: `key-${tenant}-${i % 2}`, type: 'SUMMARIZE', content: `Task ${i}.`, maxRetries: 3, idempotencyKey: null });
        return { id, tenant };
      }),
    );
    // Costs with nine decimals: dollars summed as floats would drift; nano-dollars do not.
    const costs = [0.000123457, 0.000000001, 0.1, 0.333333333, 0.000000007, 0.0042];
    let expected = 0;
    for (const [i, cost] of costs.entries()) {
      const task = tasks[i % tasks.length]!;
      const lease = { taskId: task.id, tenant: task.tenant, token: `lease-${i}` };
      await store.claim(task.id, lease.token, task.tenant);
      await store.recordUsage(lease, 1, call(i % 2 ? 'model/b' : 'model/a', cost, { estimated: i === 5 }), null);
      expected += toNanoUsd(cost);
    }
    // A worker whose lease is gone still had its call billed: it is recorded, and changes no state.
    const stale = { taskId: tasks[0]!.id, tenant: 'acme', token: 'not-the-lease' };
    const before = await repository.get(tasks[0]!.id);
    await zombie.recordUsage(stale, 1, call('model/a', 0.05), null);
    expected += toNanoUsd(0.05);
    const after = (await repository.get(tasks[0]!.id))!;
    expect(after.version).toBe(before!.version);
    expect(after.state).toBe(before!.state);
    // A task deleted meanwhile: the call is in the ledger and the counters, not on a record.
    const gone = randomUUID();
    await zombie.recordUsage({ taskId: gone, tenant: 'globex', token: 'x' }, 1, call('model/a', 0.01), null);
    expected += toNanoUsd(0.01);

    expect(await redis.client.xlen(keys.usageLedger())).toBe(costs.length + 2);

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    type Row = { tenant: string | null; apiKeyId: string | null; model: string | null; day: string | null; tasks: number; calls: number; costUsd: number; promptTokens: number };
    const byTenant = await graphql<{ usage: Row[] }>(server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { tenant tasks calls promptTokens costUsd } }', { from, to });
    expect(byTenant.errors).toBeUndefined();
    const rows = byTenant.data!.usage;
    expect(rows.map((row) => row.tenant)).toEqual(['acme', 'globex']);
    expect(rows.reduce((sum, row) => sum + row.calls, 0)).toBe(costs.length + 2);
    expect(Math.round(rows.reduce((sum, row) => sum + row.costUsd, 0) * 1e9)).toBe(expected);
    // Tasks count once, on their first billed call (the deleted one's counter never saw a record).
    expect(rows.reduce((sum, row) => sum + row.tasks, 0)).toBe(3);
    expect(rows[0]!.promptTokens).toBe(100 * 5);
    // The estimated call (globex's, model/b) is named as such.
    const estimated = await graphql<{ usage: { tenant: string; estimatedCalls: number; estimatedCostUsd: number }[] }>(server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { tenant estimatedCalls estimatedCostUsd } }', { from, to });
    expect(estimated.data!.usage).toEqual([
      { tenant: 'acme', estimatedCalls: 0, estimatedCostUsd: 0 },
      { tenant: 'globex', estimatedCalls: 1, estimatedCostUsd: 0.0042 },
    ]);

    const detailed = await graphql<{ usage: Row[] }>(server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, groupBy: [TENANT, API_KEY, MODEL, DAY]) { tenant apiKeyId model day calls costUsd } }', { from, to });
    expect(detailed.data!.usage.every((row) => row.day === new Date().toISOString().slice(0, 10))).toBe(true);
    expect(new Set(detailed.data!.usage.map((row) => row.model))).toEqual(new Set(['model/a', 'model/b']));
    expect(Math.round(detailed.data!.usage.reduce((sum, row) => sum + row.costUsd, 0) * 1e9)).toBe(expected);

    const task = await graphql<{ task: { usage: { calls: number; costUsd: number; promptTokens: number; cachedTokens: number; reasoningTokens: number; estimated: boolean } } }>(
      server,
      'query ($id: ID!) { task(id: $id) { usage { calls costUsd promptTokens cachedTokens reasoningTokens estimated } } }',
      { id: tasks[2]!.id },
    );
    // Task 2 had calls 2 and 5 (the estimated one).
    expect(task.data!.task.usage).toEqual({ calls: 2, costUsd: (toNanoUsd(0.1) + toNanoUsd(0.0042)) / 1e9, promptTokens: 200, cachedTokens: 20, reasoningTokens: 10, estimated: true });

    const bad = await graphql(server, 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { calls } }', { from: to, to: from });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^atf_llm_tokens_total\{tenant="acme",model="model\/a",kind="prompt"\} \d+/m);
    expect(metrics).toMatch(/^atf_llm_cost_usd_total\{tenant="globex",model="model\/a"\} [\d.e-]+/m);
    expect(metrics).toMatch(/^atf_llm_estimated_cost_usd_total\{tenant="globex",model="model\/b"\} 0\.0042$/m);
    expect(metrics).not.toMatch(/kind="estimatedCostNano"/);
  });
});
