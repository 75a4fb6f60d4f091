/**
 * `deadLetterCounts` against the real stack: one row per error class in the enum's order,
 * zero counts included, the same numbers as the per-class listings, kept to admin keys.
 * Tasks reach the DLQ the way they do in production: a worker calling a scripted fake provider.
 */
import { assertEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { defaultAnswer } from '../../tools/fake-openrouter.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { failByClassMarker, graphql, SAMPLE_TEXT, submitTask, waitForTask } from '../../test/support/system.ts';
import { createSchema } from '../graphql/schema.ts';

const KEYS = {
  admin: 'operator-admin-key-0123456789',
  tenant: 'tenant-a-key-0123456789',
};
const API_KEYS = JSON.stringify([
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
  { key: KEYS.tenant, tenant: 'acme', scopes: ['tasks:read', 'tasks:write'] },
]);
const COUNTS = '{ deadLetterCounts { errorClass count } }';

type Counts = { deadLetterCounts: { errorClass: string; count: number }[] };

const system = useSystem({ fake: true, server: { API_KEYS }, worker: { PROVIDER_TIMEOUT_MS: '20000', LEASE_MS: '2000' } });

const asAdmin = <T>(query: string, variables: Record<string, unknown> = {}) => graphql<T>(system.server, query, variables, KEYS.admin);
const reach = (id: string, state: string) => waitForTask(system.server, id, state, { apiKey: KEYS.admin });

async function counts(): Promise<Map<string, number>> {
  const answer = await asAdmin<Counts>(COUNTS);
  expect(answer.errors).toBeUndefined();
  return new Map(answer.data!.deadLetterCounts.map((row) => [row.errorClass, row.count]));
}

describe('deadLetterCounts', () => {
  it('answers one row per error class in the enum order, zeros included, before anything failed', async () => {
    // The order of the SDL (introspection is off outside development).
    const classes = assertEnumType(createSchema().getType('ErrorClass'))
      .getValues()
      .map((value) => value.name);
    const answer = await asAdmin<Counts>(COUNTS);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.deadLetterCounts).toEqual(classes.map((errorClass) => ({ errorClass, count: 0 })));
  });

  it('counts the tasks of each class as the per-class listings do, and follows a retry out of the DLQ', async () => {
    const { server, fake } = system;
    fake.script(failByClassMarker);
    const permanent = await Promise.all([1, 2].map((i) => submitTask(server, `${SAMPLE_TEXT} CLASS-A ${i}.`, {}, KEYS.admin)));
    const filtered = await submitTask(server, `${SAMPLE_TEXT} CLASS-B 1.`, {}, KEYS.admin);
    for (const task of [...permanent, filtered]) await reach(task.id, 'DLQ');

    const byClass = await counts();
    expect(byClass.get('PERMANENT')).toBe(2);
    expect(byClass.get('CONTENT_FILTER')).toBe(1);
    expect([...byClass].filter(([, count]) => count > 0).map(([errorClass]) => errorClass)).toEqual(['CONTENT_FILTER', 'PERMANENT']);
    // The same indexes as deadLetterTasks(errorClass:) { totalCount }, and together the whole DLQ.
    for (const [errorClass, count] of byClass) {
      const listing = await asAdmin<{ deadLetterTasks: { totalCount: number } }>('query ($c: ErrorClass!) { deadLetterTasks(errorClass: $c) { totalCount } }', { c: errorClass });
      expect(listing.data!.deadLetterTasks.totalCount, errorClass).toBe(count);
    }
    const status = await asAdmin<{ queueStatus: { dlq: number } }>('{ queueStatus { dlq } }');
    expect([...byClass.values()].reduce((a, b) => a + b, 0)).toBe(status.data!.queueStatus.dlq);

    fake.script(defaultAnswer);
    const moved = await asAdmin<{ retryDeadLetterTasks: number }>('mutation ($ids: [ID!]) { retryDeadLetterTasks(ids: $ids) }', { ids: [filtered.id] });
    expect(moved.data!.retryDeadLetterTasks).toBe(1);
    await reach(filtered.id, 'COMPLETED');
    const after = await counts();
    expect(after.get('CONTENT_FILTER')).toBe(0);
    expect(after.get('PERMANENT')).toBe(2);
  });

  it('is admin only: a tenant key gets FORBIDDEN and no data', async () => {
    const answer = await graphql<Counts>(system.server, COUNTS, {}, KEYS.tenant);
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(answer.data ?? null).toBeNull();
  });
});
