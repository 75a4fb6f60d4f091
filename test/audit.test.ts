/** The loss audit itself: each invariant it checks is reported when broken. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
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
});
