/**
 * Budgets end to end with real processes: only an admin sets them (audited), a tenant sees its
 * own; a spent budget refuses new submits with BUDGET_EXCEEDED and stores nothing, holds the
 * tenant's queued tasks (deferred, reason BUDGET, no retry spent), and they run once the limit
 * rises. Spend here is the embedded summarizer's ($0), so a zero limit is the spent budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/support/redis-server.ts';
import { getTask, graphql, SAMPLE_TEXT, startServer, startWorker, submitTask, type RunningServer } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const KEYS = { a: 'tenant-a-budget-key-0123', b: 'tenant-b-budget-key-0123', admin: 'admin-budget-key-0123456' };
const API_KEYS = JSON.stringify([
  { key: KEYS.a, tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.b, tenant: 'globex', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);
const SET_BUDGET = 'mutation ($tenant: String!, $period: BudgetPeriod!, $limit: Float) { setBudget(tenant: $tenant, period: $period, limitUsd: $limit) { tenant period limitUsd spentUsd reservedUsd resetsAt } }';
const BUDGETS = '{ budgets { tenant period limitUsd spentUsd reservedUsd resetsAt } }';

let redis: TestRedis;
let server: RunningServer;
let worker: Awaited<ReturnType<typeof startWorker>> | null = null;

beforeAll(async () => {
  redis = await startRedis();
  server = await startServer(redis.url, { API_KEYS });
});

afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  await redis?.dispose();
});

describe('budgets', () => {
  it('are set by an admin only, audited, and each tenant sees its own', async () => {
    const refused = await graphql(server, SET_BUDGET, { tenant: 'acme', period: 'DAY', limit: 5 }, KEYS.a);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const set = await graphql<{ setBudget: Record<string, unknown> }>(server, SET_BUDGET, { tenant: 'acme', period: 'MONTH', limit: 12.5 }, KEYS.admin);
    expect(set.data?.setBudget).toMatchObject({ tenant: 'acme', period: 'MONTH', limitUsd: 12.5, spentUsd: 0, reservedUsd: 0 });
    const resetsAt = new Date(set.data!.setBudget.resetsAt as string);
    expect(resetsAt.getUTCDate()).toBe(1);
    expect(resetsAt.getTime()).toBeGreaterThan(Date.now());
    await graphql(server, SET_BUDGET, { tenant: 'globex', period: 'DAY', limit: 1 }, KEYS.admin);

    const own = await graphql<{ budgets: { tenant: string }[] }>(server, BUDGETS, {}, KEYS.a);
    expect(own.data?.budgets.map((budget) => budget.tenant)).toEqual(['acme']);
    const all = await graphql<{ budgets: { tenant: string }[] }>(server, BUDGETS, {}, KEYS.admin);
    expect(all.data?.budgets.map((budget) => budget.tenant)).toEqual(['acme', 'globex']);

    const audit = await graphql<{ auditLog: { nodes: { action: string; target: string | null }[] } }>(server, '{ auditLog(first: 10) { nodes { action target } } }', {}, KEYS.admin);
    expect(audit.data?.auditLog.nodes.filter((entry) => entry.action === 'setBudget')).toHaveLength(3);
    const bad = await graphql(server, SET_BUDGET, { tenant: 'acme', period: 'DAY', limit: -1 }, KEYS.admin);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Removing a budget answers null and leaves the others.
    expect((await graphql(server, SET_BUDGET, { tenant: 'globex', period: 'DAY', limit: null }, KEYS.admin)).data).toEqual({ setBudget: null });
  });

  it('refuses submits once spent, holds queued tasks without spending retries, and lets them run when the limit rises', async () => {
    // Queued while nobody works; then the budget is spent (a zero limit).
    const queued = await Promise.all([1, 2, 3].map((n) => submitTask(server, `${SAMPLE_TEXT} Queued ${n}.`, {}, KEYS.a)));
    await graphql(server, SET_BUDGET, { tenant: 'acme', period: 'DAY', limit: 0 }, KEYS.admin);
    const before = await graphql<{ tasks: { totalCount: number } }>(server, '{ tasks { totalCount } }', {}, KEYS.a);
    const refused = await graphql(server, 'mutation { submitTask(input: { content: "Over budget." }) { id } }', {}, KEYS.a);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { period: 'DAY', resetsAt: expect.any(String) } });
    const after = await graphql<{ tasks: { totalCount: number } }>(server, '{ tasks { totalCount } }', {}, KEYS.a);
    expect(after.data?.tasks.totalCount).toBe(before.data?.tasks.totalCount);
    // Another tenant is not held back.
    const theirs = await submitTask(server, `${SAMPLE_TEXT} Not over.`, {}, KEYS.b);

    worker = await startWorker(redis.url, { BUDGET_RECHECK_MS: '200' });
    await waitFor(async () => (await getTask(server, theirs.id, KEYS.b))?.state === 'COMPLETED', { message: "the other tenant's task to run" });
    for (const task of queued) {
      await waitFor(async () => (await getTask(server, task.id, KEYS.a))?.history.some((h) => h.reason === 'BUDGET'), { message: 'the task to wait on its budget' });
    }
    const waiting = (await getTask(server, queued[0]!.id, KEYS.a))!;
    expect(waiting.state).toBe('SCHEDULED');
    expect(waiting.retryCount).toBe(0);
    expect(waiting.errors).toEqual([]);

    await graphql(server, SET_BUDGET, { tenant: 'acme', period: 'DAY', limit: 100 }, KEYS.admin);
    // Spend is per tenant: a tenant's key reads its own rows only (the embedded summarizer's $0 calls).
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    const USAGE = 'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, groupBy: [TENANT, MODEL]) { tenant model calls costUsd } }';
    const mine = await graphql<{ usage: { tenant: string; model: string; calls: number; costUsd: number }[] }>(server, USAGE, range, KEYS.b);
    expect(mine.data?.usage).toEqual([{ tenant: 'globex', model: 'local', calls: 1, costUsd: 0 }]);
    const everyone = await graphql<{ usage: { tenant: string }[] }>(server, USAGE, range, KEYS.admin);
    expect(everyone.data?.usage.map((row) => row.tenant)).toContain('globex');

    for (const task of queued) {
      const done = await waitFor(async () => {
        const current = await getTask(server, task.id, KEYS.a);
        return current?.state === 'COMPLETED' ? current : null;
      }, { timeoutMs: 15_000, message: 'the held task to run after the limit rose' });
      expect(done.retryCount).toBe(0);
    }
  });
});
