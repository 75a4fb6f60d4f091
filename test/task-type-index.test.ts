/**
 * Listing by task type reads a per-type index, so pages and counts stay exact with several
 * types. There is one type today, so the second type's tasks are filed under its index by hand
 * (their records still say SUMMARIZE, which the record schema requires).
 */
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import type { TaskType } from '../schema/src/task.ts';
import { ListOrder, type TaskRepository } from '../server/infra/task-repository.ts';
import { useSystem } from './support/fixtures.ts';

const OTHER = 'TRANSLATE' as TaskType;
const system = useSystem({ server: false });
const keys = createRedisKeys(`types-${randomUUID().slice(0, 8)}`);
let repository: TaskRepository;
const ids: Record<string, string[]> = { SUMMARIZE: [], TRANSLATE: [] };

beforeAll(async () => {
  const { redis } = system;
  repository = system.repository(keys);
  // Interleaved: 5 summaries and 4 of the other type, in one tenant, plus one in another tenant.
  for (let i = 0; i < 9; i += 1) {
    const type = i % 2 === 0 ? 'SUMMARIZE' : OTHER;
    const id = randomUUID();
    await repository.create({ id, tenant: 'acme', type: 'SUMMARIZE', content: `Task ${i}.`, maxRetries: 1, idempotencyKey: null });
    if (type === OTHER) {
      for (const tenant of [null, 'acme']) {
        const [from, to] = [keys.tasksOfType('SUMMARIZE'), keys.tasksOfType(OTHER)].map((index) => (tenant ? keys.tenantSlice(index, tenant) : index));
        const score = (await redis.client.zscore(from!, id))!;
        await redis.client.multi().zrem(from!, id).zadd(to!, score, id).exec();
      }
    }
    ids[type]!.push(id);
  }
  await repository.create({ id: randomUUID(), tenant: 'other', type: 'SUMMARIZE', content: 'Elsewhere.', maxRetries: 1, idempotencyKey: null });
  await repository.cancel({ id: ids.SUMMARIZE![0]!, tenant: 'acme' }, 'op', TransitionReason.CANCELLED_BY_OPERATOR);
});

const all = { first: 100, after: null, order: ListOrder.OLDEST_FIRST } as const;

describe('tasks by type', () => {
  it('pages and counts one type exactly, alone and with a state, per tenant', async () => {
    const page = await repository.list({ ...all, first: 2, type: 'SUMMARIZE', tenant: 'acme' });
    expect(page.totalCount).toBe(5);
    expect(page.records.map((record) => record.id)).toEqual(ids.SUMMARIZE!.slice(0, 2));
    const next = await repository.list({ ...all, first: 10, after: page.endCursor, type: 'SUMMARIZE', tenant: 'acme' });
    expect(next.records.map((record) => record.id)).toEqual(ids.SUMMARIZE!.slice(2));
    expect(next.hasNextPage).toBe(false);

    expect((await repository.list({ ...all, type: 'SUMMARIZE' })).totalCount).toBe(6);
    const pending = await repository.list({ ...all, first: 3, type: 'SUMMARIZE', state: 'PENDING', tenant: 'acme' });
    expect(pending.totalCount).toBe(4);
    expect(pending.records.map((record) => record.id)).toEqual(ids.SUMMARIZE!.slice(1, 4));
    expect(pending.hasNextPage).toBe(true);
    const others = await repository.list({ ...all, type: OTHER, state: 'PENDING', order: ListOrder.NEWEST_FIRST });
    expect(others.records.map((record) => record.id)).toEqual([...ids.TRANSLATE!].reverse());
    expect(others.totalCount).toBe(4);
    // With creation bounds the count walks the state index: still exact.
    const bounded = await repository.list({ ...all, type: 'SUMMARIZE', state: 'PENDING', createdFrom: 0, createdTo: Date.now() + 60_000, tenant: 'acme' });
    expect(bounded.totalCount).toBe(4);
  });

  it('drops a deleted task from its type index', async () => {
    const id = ids.TRANSLATE!.at(-1)!;
    await system.redis.client.hset(keys.task(id), 'type', OTHER);
    expect(await repository.remove(id, 'op')).toBe(true);
    expect(await system.redis.client.zscore(keys.tasksOfType(OTHER), id)).toBeNull();
    expect(await system.redis.client.zscore(keys.tenantSlice(keys.tasksOfType(OTHER), 'acme'), id)).toBeNull();
    ids.TRANSLATE!.pop();
  });

  it('fills the index from tasks stored before it existed (all SUMMARIZE then)', async () => {
    const summarize = keys.tasksOfType('SUMMARIZE');
    const before = await system.redis.client.zrange(summarize, 0, -1);
    await system.redis.client.del(summarize, keys.tenantSlice(summarize, 'acme'), keys.tenantSlice(summarize, 'other'));
    expect(await repository.backfillTypeIndex()).toBe(2);
    // Every stored task was put under SUMMARIZE: right for data written before types had indexes.
    expect((await system.redis.client.zrange(summarize, 0, -1)).length).toBeGreaterThanOrEqual(before.length);
    expect(await system.redis.client.zcard(keys.tenantSlice(summarize, 'other'))).toBe(1);
    expect(await repository.backfillTypeIndex()).toBeNull();
  });
});
