/**
 * The walking skeleton end to end: real Redis, real server, real worker, real graphql-ws.
 */
import { describe, expect, it } from 'vitest';
import { randomPrefix, useSystem } from '../../test/support/fixtures.ts';
import { graphql, SAMPLE_TEXT, submitTask, subscribe, TASK_FIELDS, waitForTask, type TaskView } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const TASK_UPDATED = `subscription ($id: ID!, $after: Int) { taskUpdated(id: $id, afterVersion: $after) { ${TASK_FIELDS} } }`;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// No worker at the start: tests start their own when tasks should run.
const system = useSystem({ wsClient: true });

describe('submit and watch live', () => {
  it('streams PENDING -> ACTIVE -> COMPLETED with growing versions to a subscriber that was there first', async () => {
    // No worker yet: the task waits in PENDING while we subscribe.
    const task = await submitTask(system.server, SAMPLE_TEXT);
    expect(task.state).toBe('PENDING');
    expect(task.version).toBe(1);
    expect(task.createdAt).toMatch(ISO_UTC);

    const subscription = subscribe<TaskView>(system.client, TASK_UPDATED, { id: task.id }, 'taskUpdated');
    await subscription.waitFor((event) => event.state === 'PENDING');

    const worker = await system.startWorker();
    try {
      const completed = await subscription.waitFor((event) => event.state === 'COMPLETED');
      expect(subscription.errors).toEqual([]);
      const versions = subscription.events.map((event) => event.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(versions[versions.length - 1]! - versions[0]!).toBe(versions.length - 1);
      const states = subscription.events.map((event) => event.state);
      expect(states[0]).toBe('PENDING');
      expect(states).toContain('ACTIVE');
      expect(states.indexOf('ACTIVE')).toBeLessThan(states.indexOf('COMPLETED'));

      expect(completed.result).toBeTruthy();
      expect(SAMPLE_TEXT).toContain(completed.result!.split('. ')[0]!);
      expect(completed.progress).toBe(1);
      expect(completed.completedAt).toMatch(ISO_UTC);
      expect(completed.content).toBe(SAMPLE_TEXT);
      expect(completed.history.map((h) => h.state)).toEqual(['PENDING', 'ACTIVE', 'COMPLETED']);
      expect(completed.history[1]!.workerId).toBe(worker.workerId);
      expect(completed.history[0]!.at).toMatch(ISO_UTC);
    } finally {
      subscription.dispose();
    }
  });

  it('gives a late subscriber the terminal snapshot, and replays every change after a given version', async () => {
    await system.startWorker();
    const task = await submitTask(system.server, SAMPLE_TEXT);
    await waitForTask(system.server, task.id, 'COMPLETED');

    const late = subscribe<TaskView>(system.client, TASK_UPDATED, { id: task.id }, 'taskUpdated');
    const snapshot = await late.waitFor(() => true);
    expect(snapshot.state).toBe('COMPLETED');
    expect(late.events).toHaveLength(1);
    late.dispose();

    const replay = subscribe<TaskView>(system.client, TASK_UPDATED, { id: task.id, after: 0 }, 'taskUpdated');
    const last = await replay.waitFor((event) => event.state === 'COMPLETED');
    expect(replay.events.map((event) => event.version)).toEqual(
      Array.from({ length: last.version }, (_, i) => i + 1),
    );
    expect(replay.events[0]!.state).toBe('PENDING');
    replay.dispose();
  });

  it('answers a subscription to an unknown task with NOT_FOUND', async () => {
    const subscription = subscribe<TaskView>(system.client, TASK_UPDATED, { id: 'no-such-task' }, 'taskUpdated');
    await waitFor(() => subscription.errors.length > 0 || subscription.completed, { message: 'an error' });
    expect(JSON.stringify(subscription.errors)).toContain('NOT_FOUND');
    expect(subscription.events).toEqual([]);
  });

  it('refuses queries and mutations over WebSocket', async () => {
    const subscription = subscribe(system.client, '{ queueStatus { primary } }', {}, 'queueStatus');
    await waitFor(() => subscription.errors.length > 0, { message: 'an error' });
    expect(JSON.stringify(subscription.errors)).toMatch(/only subscriptions/);
  });
});

describe('listing and status', () => {
  it('pages through tasks newest first without overlap, with a total count', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await submitTask(system.server, `${SAMPLE_TEXT} Item ${i}.`)).id);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const response: Awaited<ReturnType<typeof graphql<{ tasks: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number } }>>> =
        await graphql(system.server, `query ($after: String) { tasks(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } totalCount } }`, { after });
      const page = response.data!.tasks;
      seen.push(...page.nodes.map((node) => node.id));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first: the five we just made lead, in reverse order of creation.
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('rejects a cursor it did not issue', async () => {
    const response = await graphql(system.server, `{ tasks(first: 2, after: "garbage") { totalCount } }`);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('reports queue status whose state counts match the listings, and streams changes', async () => {
    // A deployment of its own (prefix, server, no worker), so the counts are this test's tasks alone.
    const own = await system.startServer({ REDIS_KEY_PREFIX: randomPrefix('status') });
    for (let i = 0; i < 3; i += 1) await submitTask(own, `${SAMPLE_TEXT} Waiting ${i}.`);
    const status = await graphql<{ queueStatus: { primary: number; states: { state: string; count: number }[]; retryRatio: number } }>(
      own,
      `{ queueStatus { primary retry scheduled dlq retryRatio states { state count } } }`,
    );
    const counts = Object.fromEntries(status.data!.queueStatus.states.map((s) => [s.state, s.count]));
    const pending = await graphql<{ tasks: { totalCount: number } }>(own, `{ tasks(state: PENDING) { totalCount } }`);
    expect(counts.PENDING).toBe(3);
    expect(pending.data!.tasks.totalCount).toBe(3);
    expect(status.data!.queueStatus.primary).toBe(3);
    expect(status.data!.queueStatus.retryRatio).toBe(0.3);

    type Status = { primary: number; states: { state: string; count: number }[] };
    const live = subscribe<Status>(system.wsClient(own), `subscription { queueStatusUpdated { primary states { state count } } }`, {}, 'queueStatusUpdated');
    const first = await live.waitFor(() => true);
    expect(first.primary).toBe(3);
    await submitTask(own, `${SAMPLE_TEXT} One more.`);
    const next = await live.waitFor((event) => event.primary === 4);
    expect(next.states.find((s) => s.state === 'PENDING')?.count).toBe(4);
    live.dispose();
  });

  it('streams changes of any task on tasksUpdated, after a first message that says the feed is live', async () => {
    const feed = subscribe<TaskView>(system.client, `subscription { tasksUpdated { id state version } }`, {}, 'tasksUpdated');
    // No snapshot: the feed's first message says it is live, and from then on no change is missed.
    await feed.waitLive();
    expect(feed.events).toHaveLength(0);
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Feed.`);
    await feed.waitFor((event) => event.id === task.id && event.state === 'PENDING');
    feed.dispose();
  });
});

describe('idempotency', () => {
  it('returns the same task for a resend with the same key, and CONFLICT for other content', async () => {
    const first = await submitTask(system.server, SAMPLE_TEXT, { idempotencyKey: 'order-42' });
    const again = await submitTask(system.server, SAMPLE_TEXT, { idempotencyKey: 'order-42' });
    expect(again.id).toBe(first.id);
    const conflict = await graphql(system.server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
      input: { content: `${SAMPLE_TEXT} changed`, idempotencyKey: 'order-42' },
    });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});
