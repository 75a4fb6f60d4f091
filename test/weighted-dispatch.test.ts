/**
 * A real worker shares its capacity between the primary and the retry queue at RETRY_RATIO
 * while both have work, and gives all of it to whichever queue is left.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAnswer } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, graphql, SAMPLE_TEXT, submitTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ fake: true });

beforeAll(() => {
  // Each call takes a few ms, so start times are distinct and give the dispatch order.
  system.fake.script((request) => ({ ...defaultAnswer(request), delayMs: 8 }));
});

describe('weighted dispatch', () => {
  it('runs retries at RETRY_RATIO while both queues wait, then drains the rest', { timeout: 60_000 }, async () => {
    const { server } = system;
    // No worker yet: 40 new tasks wait on the primary queue, 40 operator retries on the retry queue.
    const fresh: string[] = [];
    const retried: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const task = await submitTask(server, `${SAMPLE_TEXT} Retry ${i}.`);
      await graphql(server, `mutation ($id: ID!) { cancelTask(id: $id) { state } }`, { id: task.id });
      await graphql(server, `mutation ($id: ID!) { retryTask(id: $id) { state } }`, { id: task.id });
      retried.push(task.id);
    }
    for (let i = 0; i < 40; i += 1) fresh.push((await submitTask(server, `${SAMPLE_TEXT} Fresh ${i}.`)).id);
    const status = await graphql<{ queueStatus: { primary: number; retry: number; retryRatio: number } }>(server, `{ queueStatus { primary retry retryRatio } }`);
    expect(status.data!.queueStatus).toEqual({ primary: 40, retry: 40, retryRatio: 0.3 });

    // One slot, so tasks run one after another and their start order is the dispatch order.
    await system.startWorker({ WORKER_CONCURRENCY: '1', RETRY_RATIO: '0.3' });
    const all = [...fresh, ...retried];
    await waitFor(async () => {
      const states = await Promise.all(all.map(async (id) => (await getTask(server, id))!.state));
      return states.every((state) => state === 'COMPLETED');
    }, { timeoutMs: 45_000, intervalMs: 200, message: 'all 80 tasks to complete' });

    const startedAt = async (id: string) => {
      const history = (await getTask(server, id))!.history;
      return Date.parse(history.filter((h) => h.state === 'ACTIVE').at(-1)!.at);
    };
    const starts = await Promise.all(all.map(async (id) => ({ id, at: await startedAt(id), retry: retried.includes(id) })));
    starts.sort((a, b) => a.at - b.at);
    // While both queues had work (the first 50 starts: 35 fresh + 15 retries at 0.3).
    const retriesEarly = starts.slice(0, 50).filter((start) => start.retry).length;
    expect(retriesEarly).toBeGreaterThanOrEqual(13);
    expect(retriesEarly).toBeLessThanOrEqual(17);
  });
});
