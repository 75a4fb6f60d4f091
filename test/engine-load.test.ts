/**
 * 300 tasks with random provider outcomes through three workers, with operator cancels
 * racing the work. At the end: every task ended once, counts, listings and the dead letter
 * queue agree, delayed retries were promoted once each (attempts never exceed the budget),
 * and the audit is clean.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTaskEvent } from '../schema/src/task.ts';
import { defaultAnswer, errorAnswer, type FakeAnswer } from '../tools/fake-openrouter.ts';
import { expectCleanAudit } from './support/audit.ts';
import { useSystem } from './support/fixtures.ts';
import { graphql, SAMPLE_TEXT } from './support/system.ts';

const TASKS = 300;
const MAX_RETRIES = 3;
const system = useSystem({ fake: true, server: { MAX_RETRIES: String(MAX_RETRIES) } });
const { keys } = system;

// A seeded generator: the same mix of outcomes on every run.
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

function randomOutcome(request: Parameters<typeof defaultAnswer>[0]): FakeAnswer {
  const roll = random();
  const delayMs = Math.floor(random() * 30);
  if (roll < 0.6) return { ...defaultAnswer(request), delayMs };
  if (roll < 0.75) return { ...errorAnswer(503, 'No instances available'), delayMs };
  if (roll < 0.83) return { ...errorAnswer(429, 'Rate limited'), delayMs };
  if (roll < 0.9) return { status: 200, body: '{"choices": [', delayMs };
  return { ...errorAnswer(400, 'Invalid request'), delayMs };
}

beforeAll(async () => {
  system.fake.script(randomOutcome);
  for (let i = 0; i < 3; i += 1) {
    // The breaker may open under this error rate; tasks then wait briefly, losing no retry.
    await system.startWorker({ WORKER_CONCURRENCY: '8', WORKER_ID: `load-${i}`, CIRCUIT_TIMEOUT: '0.05' });
  }
});

type Counts = { queueStatus: { dlq: number; states: { state: string; count: number }[] } };

describe('300 tasks with random outcomes', () => {
  it('ends every task once, with counts, listings and the DLQ in agreement', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    const markerOf = new Map<string, string>();
    for (let batch = 0; batch < TASKS / 20; batch += 1) {
      const submitted = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          graphql<{ submitTask: { id: string } }>(system.server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
            input: { content: `${SAMPLE_TEXT} Load ${batch}-${i}.` },
          }),
        ),
      );
      submitted.forEach((response, i) => {
        ids.push(response.data!.submitTask.id);
        markerOf.set(response.data!.submitTask.id, `Load ${batch}-${i}.`);
      });
    }
    // Operators cancel some tasks while they run; each cancel either wins or meets a CONFLICT.
    const cancels = await Promise.all(
      ids.filter((_, i) => i % 30 === 7).map((id) => graphql(system.server, `mutation ($id: ID!) { cancelTask(id: $id) { state } }`, { id })),
    );
    for (const response of cancels) {
      if (response.errors) expect(response.errors[0]!.extensions?.code).toBe('CONFLICT');
    }

    const providerCalls = () => {
      const calls = new Map<string, number>();
      const byMarker = new Map([...markerOf].map(([id, marker]) => [marker, id]));
      for (const request of system.fake.requests) {
        const marker = /Load \d+-\d+\./.exec(JSON.stringify(request.body))?.[0];
        const id = marker ? byMarker.get(marker) : undefined;
        if (id) calls.set(id, (calls.get(id) ?? 0) + 1);
      }
      return calls;
    };
    await expectCleanAudit(system.redis.client, keys, ids, { providerCalls, timeoutMs: 90_000 });

    const counts = (await graphql<Counts>(system.server, `{ queueStatus { dlq states { state count } } }`)).data!.queueStatus;
    const count = (state: string) => counts.states.find((s) => s.state === state)?.count ?? 0;
    expect(count('COMPLETED') + count('DLQ') + count('CANCELLED')).toBe(TASKS);
    expect(count('PENDING') + count('ACTIVE') + count('SCHEDULED')).toBe(0);
    expect(count('COMPLETED')).toBeGreaterThan(TASKS / 2);
    expect(count('DLQ')).toBeGreaterThan(0);

    for (const state of ['COMPLETED', 'DLQ', 'CANCELLED']) {
      const seen = new Set<string>();
      let after: string | null = null;
      for (;;) {
        type Page = { tasks: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: { id: string }[] } };
        const page: Page = (await graphql<Page>(system.server, `query ($state: TaskState, $after: String) { tasks(state: $state, first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }`, { state, after })).data!;
        expect(page.tasks.totalCount).toBe(count(state));
        for (const node of page.tasks.nodes) seen.add(node.id);
        if (!page.tasks.pageInfo.hasNextPage) break;
        after = page.tasks.pageInfo.endCursor;
      }
      expect(seen.size).toBe(count(state));
    }

    type Dead = { deadLetterTasks: { totalCount: number; nodes: { id: string; state: string; errors: { errorClass: string }[] }[] } };
    const dead = (await graphql<Dead>(system.server, `{ deadLetterTasks(first: 100) { totalCount nodes { id state errors { errorClass } } } }`)).data!.deadLetterTasks;
    expect(dead.totalCount).toBe(counts.dlq);
    expect(dead.nodes.every((node) => node.state === 'DLQ' && node.errors.length > 0)).toBe(true);

    // Delayed retries were promoted once each: the audit's I5 check held every task's provider
    // calls to its budget (claims deferred by an open breaker call nothing).
    expect(system.fake.requests.length).toBeGreaterThan(TASKS);
  });

  it('promotes each delayed retry exactly once while three workers race to promote it', async () => {
    system.fake.script((request) => {
      // Every task fails its first call, so each gets one delayed retry, all due together.
      const text = JSON.stringify(request.body);
      const seen = system.fake.requests.filter((r) => JSON.stringify(r.body) === text).length;
      return seen === 1 ? errorAnswer(503, 'No instances available') : defaultAnswer(request);
    });
    const submitted = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        graphql<{ submitTask: { id: string } }>(system.server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
          input: { content: `${SAMPLE_TEXT} Promote ${i}.` },
        }),
      ),
    );
    const ids = submitted.map((response) => response.data!.submitTask.id);
    await expectCleanAudit(system.redis.client, keys, ids);
    for (const id of ids) {
      const events = (await system.redis.client.xrange(keys.taskEvents(id), '-', '+'))
        .map(([, fields]) => parseTaskEvent(fields))
        .filter((event) => event.kind === 'transition')
        .map((event) => event.state);
      expect(events.filter((state) => state === 'SCHEDULED')).toHaveLength(1);
      expect(events.filter((state) => state === 'ACTIVE')).toHaveLength(2);
      expect(events.at(-1)).toBe('COMPLETED');
    }
  });
});
