/** The loss audit itself: each invariant it checks is reported when broken. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createChainStore } from '../worker/chain-store.ts';
import { audit } from './support/audit.ts';
import { useSystem } from './support/fixtures.ts';

const system = useSystem({ server: false });
const { keys } = system;

async function completedTask(): Promise<string> {
  const id = randomUUID();
  await system.repository().create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Text.', maxRetries: 1, idempotencyKey: null });
  const store = system.taskStore('w');
  await store.claim(id, 'l');
  await store.complete({ taskId: id, tenant: 't', token: 'l' }, 'done', null);
  return id;
}

describe('audit', () => {
  it('is clean for a task that went the normal way', async () => {
    expect(await audit(system.redis.client, keys, [await completedTask()])).toEqual([]);
  });

  it('reports a missing record, a stuck task, a gap in versions and a second terminal event', async () => {
    const missing = randomUUID();
    const stuck = randomUUID();
    await system.repository().create({ id: stuck, tenant: 't', type: 'SUMMARIZE', content: 'Text.', maxRetries: 1, idempotencyKey: null });
    const doubled = await completedTask();
    await system.redis.client.xadd(keys.taskEvents(doubled), '0-99', 'kind', 'transition', 'version', '99', 'state', 'COMPLETED', 'at', '1', 'workerId', '', 'reason', '', 'task', '{}');
    const problems = (await audit(system.redis.client, keys, [missing, stuck, doubled])).join('\n');
    expect(problems).toContain(`I1 missing: ${missing}`);
    expect(problems).toContain(`I2 stuck: ${stuck} is PENDING`);
    expect(problems).toContain(`I3 versions: ${doubled}`);
    expect(problems).toContain(`I4 terminal events: ${doubled} has 2`);
  });

  it('reports provider calls over budget, index drift and orphan jobs', async () => {
    const id = await completedTask();
    await system.redis.client.zadd(keys.tasksInState('PENDING'), 1, id);
    await system.redis.client.lpush(keys.beeQueueKey('primary', 'waiting'), id);
    const problems = (await audit(system.redis.client, keys, [id], { providerCalls: new Map([[id, 3]]) })).join('\n');
    expect(problems).toContain(`I5 over budget: ${id} had 3 provider calls, budget 2`);
    expect(problems).toContain(`index: ${id} is in the PENDING index but is COMPLETED`);
    expect(problems).toContain(`I6 orphan job: primary job ${id} (waiting) for a COMPLETED task`);
  });

  it('allows one provider call more for each move on in the model chain that counted no retry', async () => {
    const id = randomUUID();
    await system.repository().create({ id, tenant: 't', type: 'SUMMARIZE', content: 'Text.', maxRetries: 1, idempotencyKey: null });
    const store = system.taskStore('w');
    await store.claim(id, 'one');
    const moved = await createChainStore({ redis: system.redis.client, keys, workerId: 'w', maxEventsPerTask: 100 }).switchModel(
      { taskId: id, tenant: 't', token: 'one' },
      {
        error: { errorClass: 'PROVIDER_ERROR', message: 'the stream broke', httpStatus: 200, attempt: 1 },
        retryDelayMs: 0,
        countsRetry: false,
        chain: { models: null, index: 1, switchReason: 'STREAM_BROKEN' },
        reason: 'PROVIDER_ERROR',
      },
    );
    expect(moved).toMatchObject({ status: 'ok' });
    await store.claim(id, 'two');
    await store.complete({ taskId: id, tenant: 't', token: 'two' }, 'done', null);

    // Budget: two attempts (maxRetries 1) and the one switch. (The index checks see the
    // earlier tests' planted faults in the shared keys, so only I5 is read here.)
    const overBudget = async (calls: number) => (await audit(system.redis.client, keys, [id], { providerCalls: new Map([[id, calls]]) })).filter((p) => p.startsWith('I5'));
    expect(await overBudget(3)).toEqual([]);
    expect(await overBudget(4)).toEqual([`I5 over budget: ${id} had 4 provider calls, budget 3`]);
  });
});
