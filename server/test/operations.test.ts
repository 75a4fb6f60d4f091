/**
 * Operator actions against the real stack: cancel, retry, delete, the dead letter queue,
 * and the listing filters, with a worker calling a scripted fake provider.
 */
import { describe, expect, it } from 'vitest';
import { defaultAnswer, errorAnswer } from '../../tools/fake-openrouter.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { failByClassMarker, getTask, graphql, SAMPLE_TEXT, submitTask, subscribe, TASK_FIELDS, waitForIdleWorker, waitForTask, type TaskView } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { expectCleanAudit } from '../../test/support/audit.ts';

const system = useSystem({
  fake: true,
  server: { MAX_RETRIES: '1' },
  worker: { PROVIDER_TIMEOUT_MS: '20000', LEASE_MS: '2000' },
  wsClient: true,
});
const { keys } = system;

const mutate = <T>(query: string, variables: Record<string, unknown> = {}) => graphql<T>(system.server, query, variables);
const reach = (id: string, state: string) => waitForTask(system.server, id, state);
/** The content's provider call, once the worker has made it. */
const callFor = (marker: string) => waitFor(() => system.fake.requests.find((request) => JSON.stringify(request.body).includes(marker)), { message: `the provider call for "${marker}"` });

describe('cancelTask', () => {
  it('aborts an ACTIVE task\'s provider call and ends it CANCELLED, once', async () => {
    const { server, fake } = system;
    // A provider that would answer in 3 s: the cancel must not wait for it.
    fake.script((request) => ({ ...defaultAnswer(request), delayMs: 3000 }));
    const task = await submitTask(server, `${SAMPLE_TEXT} Cancel me.`);
    await reach(task.id, 'ACTIVE');
    const call = await callFor('Cancel me.');
    const started = Date.now();
    const response = await mutate<{ cancelTask: TaskView }>(`mutation ($id: ID!) { cancelTask(id: $id) { ${TASK_FIELDS} } }`, { id: task.id });
    expect(response.errors).toBeUndefined();
    expect(response.data!.cancelTask.state).toBe('CANCELLED');
    // The worker hangs up on the provider at once, long before the provider would answer.
    await waitFor(() => call.abortedAt, { timeoutMs: 2000, message: 'the provider call to be aborted' });
    expect(call.abortedAt! - started).toBeLessThan(1500);
    // Once the worker reports its attempt over, anything it would have written is written.
    await waitForIdleWorker(server, system.worker.workerId, call.abortedAt!);
    const after = (await getTask(server, task.id))!;
    expect(after.state).toBe('CANCELLED');
    expect(after.result).toBeNull();
    expect(after.history.map((h) => h.state)).toEqual(['PENDING', 'ACTIVE', 'CANCELLED']);
  });

  it('cancels a PENDING task at once, and a COMPLETED one is a CONFLICT that changes nothing', async () => {
    const { server } = system;
    system.fake.script(defaultAnswer);
    await system.worker.stop(100);
    try {
      const pending = await submitTask(server, `${SAMPLE_TEXT} Pending.`);
      const cancelled = await mutate<{ cancelTask: { state: string } }>(`mutation ($id: ID!) { cancelTask(id: $id) { state } }`, { id: pending.id });
      expect(cancelled.data!.cancelTask.state).toBe('CANCELLED');
    } finally {
      await system.restartWorker();
    }
    const done = await submitTask(server, `${SAMPLE_TEXT} Done.`);
    await reach(done.id, 'COMPLETED');
    const before = (await getTask(server, done.id))!;
    const conflict = await mutate(`mutation ($id: ID!) { cancelTask(id: $id) { state } }`, { id: done.id });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await getTask(server, done.id))!.version).toBe(before.version);

    const missing = await mutate(`mutation { cancelTask(id: "nope") { state } }`);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('retryTask', () => {
  it('sends a DLQ task back through the retry queue, and refuses other states', async () => {
    const { server, fake } = system;
    fake.script(() => errorAnswer(400, 'Bad request'));
    const task = await submitTask(server, `${SAMPLE_TEXT} Will fail.`);
    await reach(task.id, 'DLQ');
    expect((await mutate<{ queueStatus: { dlq: number } }>(`{ queueStatus { dlq } }`)).data!.queueStatus.dlq).toBeGreaterThanOrEqual(1);

    fake.script(defaultAnswer);
    const retried = await mutate<{ retryTask: TaskView }>(`mutation ($id: ID!) { retryTask(id: $id, resetRetryCount: true) { ${TASK_FIELDS} } }`, { id: task.id });
    expect(retried.errors).toBeUndefined();
    expect(['PENDING', 'ACTIVE', 'COMPLETED']).toContain(retried.data!.retryTask.state);
    await reach(task.id, 'COMPLETED');
    const done = (await getTask(server, task.id))!;
    expect(done.history.map((h) => h.state)).toEqual(['PENDING', 'ACTIVE', 'DLQ', 'PENDING', 'ACTIVE', 'COMPLETED']);
    expect(done.history[3]!.reason).toMatch(/retried by operator/);
    expect(done.errors).toHaveLength(1);

    const dlq = await mutate<{ deadLetterTasks: { nodes: { id: string }[] } }>(`{ deadLetterTasks(first: 100) { nodes { id } } }`);
    expect(dlq.data!.deadLetterTasks.nodes.map((n) => n.id)).not.toContain(task.id);

    const conflict = await mutate(`mutation ($id: ID!) { retryTask(id: $id) { state } }`, { id: task.id });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('deleteTask', () => {
  it('removes an ACTIVE task everywhere; the worker finishing later does not bring it back', async () => {
    const { server, client, redis } = system;
    // A provider that answers in 1.5 s: the task is deleted while its call is in flight.
    system.fake.script((request) => ({ ...defaultAnswer(request), delayMs: 1500 }));
    const task = await submitTask(server, `${SAMPLE_TEXT} Delete me.`, { idempotencyKey: 'delete-me' });
    const watcher = subscribe<TaskView>(client, `subscription ($id: ID!) { taskUpdated(id: $id) { id state } }`, { id: task.id }, 'taskUpdated');
    const deletions = subscribe<string>(client, `subscription { taskDeleted }`, {}, 'taskDeleted');
    await reach(task.id, 'ACTIVE');
    await watcher.waitFor((event) => event.state === 'ACTIVE');
    const call = await callFor('Delete me.');

    const deleted = await mutate<{ deleteTask: boolean }>(`mutation ($id: ID!) { deleteTask(id: $id) }`, { id: task.id });
    expect(deleted.data!.deleteTask).toBe(true);
    await waitFor(() => watcher.completed, { message: 'the watch to end' });
    await deletions.waitFor((id) => id === task.id);

    await waitFor(() => call.abortedAt, { timeoutMs: 2000, message: 'the provider call to be aborted' });
    // Once the worker reports its attempt over, anything it would have written is written.
    await waitForIdleWorker(server, system.worker.workerId, call.abortedAt!);
    expect(await getTask(server, task.id)).toBeNull();
    expect(await redis.client.keys(`*${task.id}*`)).toEqual([]);
    for (const index of [keys.tasksAll(), keys.tasksInState('ACTIVE'), keys.tasksInState('COMPLETED'), keys.taskIds()]) {
      expect(await redis.client.zscore(index, task.id)).toBeNull();
    }
    // The idempotency key is free again.
    const again = await submitTask(server, 'Different text entirely.', { idempotencyKey: 'delete-me' });
    expect(again.id).not.toBe(task.id);

    expect((await mutate<{ deleteTask: boolean }>(`mutation ($id: ID!) { deleteTask(id: $id) }`, { id: task.id })).data!.deleteTask).toBe(false);
    deletions.dispose();
  });
});

describe('dead letter queue', () => {
  it('lists by error class, retries a class in bulk, and purges only with confirmation', async () => {
    const { server, fake } = system;
    fake.script(failByClassMarker);
    const a = await Promise.all([1, 2].map((i) => submitTask(server, `${SAMPLE_TEXT} CLASS-A ${i}.`)));
    const b = await Promise.all([1, 2, 3].map((i) => submitTask(server, `${SAMPLE_TEXT} CLASS-B ${i}.`)));
    for (const task of [...a, ...b]) await reach(task.id, 'DLQ');

    type Listing = { deadLetterTasks: { totalCount: number; nodes: { id: string; errors: { errorClass: string }[] }[] } };
    const permanent = await mutate<Listing>(`{ deadLetterTasks(errorClass: PERMANENT) { totalCount nodes { id errors { errorClass } } } }`);
    expect(permanent.data!.deadLetterTasks.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(a.map((t) => t.id)));
    const filtered = await mutate<Listing>(`{ deadLetterTasks(errorClass: CONTENT_FILTER, first: 2) { totalCount nodes { id } } }`);
    expect(filtered.data!.deadLetterTasks.totalCount).toBe(3);
    expect(filtered.data!.deadLetterTasks.nodes).toHaveLength(2);

    const all = await mutate<Listing & { queueStatus: { dlq: number } }>(`{ deadLetterTasks(first: 100) { totalCount } queueStatus { dlq } }`);
    expect(all.data!.deadLetterTasks.totalCount).toBe(all.data!.queueStatus.dlq);

    // Retrying a class while the cause is still there: each task is retried once, and the
    // call ends, even though the tasks fail straight back into the DLQ.
    const permanentBefore = permanent.data!.deadLetterTasks.totalCount;
    const callsBefore = fake.requests.length;
    const again = await mutate<{ retryDeadLetterTasks: number }>(`mutation { retryDeadLetterTasks(errorClass: PERMANENT) }`);
    expect(again.data!.retryDeadLetterTasks).toBe(permanentBefore);
    for (const task of a) await reach(task.id, 'DLQ');
    await waitFor(async () => (await mutate<Listing>(`{ deadLetterTasks(errorClass: PERMANENT) { totalCount } }`)).data!.deadLetterTasks.totalCount === permanentBefore);
    expect(fake.requests.length - callsBefore).toBe(permanentBefore);

    fake.script(defaultAnswer);
    const moved = await mutate<{ retryDeadLetterTasks: number }>(`mutation { retryDeadLetterTasks(errorClass: CONTENT_FILTER) }`);
    expect(moved.data!.retryDeadLetterTasks).toBe(3);
    for (const task of b) await reach(task.id, 'COMPLETED');

    const refused = await mutate(`mutation { purgeDeadLetterQueue(confirm: false) }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const left = (await mutate<{ queueStatus: { dlq: number } }>(`{ queueStatus { dlq } }`)).data!.queueStatus.dlq;
    const purged = await mutate<{ purgeDeadLetterQueue: number }>(`mutation { purgeDeadLetterQueue(confirm: true) }`);
    expect(purged.data!.purgeDeadLetterQueue).toBe(left);
    expect((await mutate<{ queueStatus: { dlq: number } }>(`{ queueStatus { dlq } }`)).data!.queueStatus.dlq).toBe(0);
    for (const task of a) expect(await getTask(server, task.id)).toBeNull();
  });
});

describe('tasks filters', () => {
  it('filters by state, id prefix and creation time, and sorts both ways', async () => {
    const { server } = system;
    system.fake.script(defaultAnswer);
    const made = [];
    for (let i = 0; i < 3; i += 1) made.push(await submitTask(server, `${SAMPLE_TEXT} Filter ${i}.`));
    for (const task of made) await reach(task.id, 'COMPLETED');
    type Page = { tasks: { totalCount: number; nodes: { id: string; state: string; createdAt: string }[] } };

    const byPrefix = await mutate<Page>(`query ($p: String) { tasks(idPrefix: $p) { totalCount nodes { id } } }`, { p: made[1]!.id.slice(0, 8) });
    expect(byPrefix.data!.tasks.nodes.map((n) => n.id)).toContain(made[1]!.id);

    const window = await mutate<Page>(`query ($from: DateTime, $to: DateTime) { tasks(createdAfter: $from, createdBefore: $to, order: OLDEST_FIRST) { totalCount nodes { id createdAt } } }`, {
      from: made[0]!.createdAt,
      to: made[2]!.createdAt,
    });
    expect(window.data!.tasks.nodes.map((n) => n.id)).toEqual(made.map((t) => t.id));
    expect(window.data!.tasks.totalCount).toBe(3);

    const completed = await mutate<Page & { queueStatus: { states: { state: string; count: number }[] } }>(
      `{ tasks(state: COMPLETED, first: 100) { totalCount nodes { state } } queueStatus { states { state count } } }`,
    );
    expect(completed.data!.tasks.nodes.every((n) => n.state === 'COMPLETED')).toBe(true);
    expect(completed.data!.tasks.totalCount).toBe(completed.data!.queueStatus.states.find((s) => s.state === 'COMPLETED')!.count);

    const bad = await mutate(`{ tasks(createdAfter: "yesterday") { totalCount } }`);
    expect(bad.errors?.[0]?.message).toMatch(/DateTime/);
  });
});

describe('after all of the above', () => {
  it('leaves a clean audit for every task that still exists', async () => {
    const listed = await mutate<{ tasks: { nodes: { id: string }[] } }>(`{ tasks(first: 100) { nodes { id } } }`);
    const ids = listed.data!.tasks.nodes.map((node) => node.id);
    expect(ids.length).toBeGreaterThan(5);
    await expectCleanAudit(system.redis.client, keys, ids);
  });
});
