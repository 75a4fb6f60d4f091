/**
 * The provider rate limit shared by three workers: no window ever sees more calls than the
 * bucket allows, a change of the limit in Redis takes effect without a restart, a 429
 * with Retry-After holds every worker's calls, not only the one that got it, and the tasks a
 * hold deferred start within moments of the hold being lifted (the pause cleared, the limit raised).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { defaultAnswer, errorAnswer, inFlightBudgetAnswer, weightExceedsBudgetAnswer } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, graphql, SAMPLE_TEXT, submitTask, waitForTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ fake: true });
const { keys } = system;

beforeAll(async () => {
  for (let i = 0; i < 3; i += 1) {
    await system.startWorker({ WORKER_CONCURRENCY: '4', PROVIDER_RATE_LIMIT: '5/1s', CIRCUIT_VOLUME_THRESHOLD: '100000' });
  }
});

/** Submits `count` tasks labelled `label` at once; resolves with their ids. */
const submitBurst = (count: number, label: string) =>
  Promise.all(Array.from({ length: count }, (_, i) => submitTask(system.server, `${SAMPLE_TEXT} ${label} ${i}.`).then((t) => t.id)));

/** The most calls seen in any window of `windowMs` among these request times. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

const allComplete = (ids: string[], timeoutMs = 30_000) =>
  waitFor(async () => (await Promise.all(ids.map((id) => getTask(system.server, id)))).every((task) => task?.state === 'COMPLETED'), {
    timeoutMs,
    intervalMs: 100,
    message: 'every task to complete',
  });

const NEXT_ATTEMPT = `query ($id: ID!) { task(id: $id) { nextAttemptAt } }`;
const nextAttemptAt = async (id: string) => Date.parse((await graphql<{ task: { nextAttemptAt: string } }>(system.server, NEXT_ATTEMPT, { id })).data!.task.nextAttemptAt);

/** Waits until the task is deferred for the rate limit, and resolves with when its deferral ends. */
async function heldUntil(id: string): Promise<number> {
  await waitForTask(system.server, id, (task) => task.state === 'SCHEDULED' && task.history.some((h) => h.reason === TransitionReason.RATE_LIMITED));
  return nextAttemptAt(id);
}

/** Each task's history shows a release for a lifted hold, and its last start within `withinMs` of `liftedAt`. */
async function expectReleasedSoonAfter(ids: string[], liftedAt: number, withinMs: number): Promise<void> {
  for (const id of ids) {
    const task = (await getTask(system.server, id))!;
    expect(task.history.some((h) => h.reason === TransitionReason.RELEASED_RATE_LIMIT_LIFTED)).toBe(true);
    expect(Date.parse(task.history.filter((h) => h.state === 'ACTIVE').at(-1)!.at) - liftedAt).toBeLessThan(withinMs);
    expect(task.errors).toEqual([]);
  }
}

describe('shared provider rate limit', () => {
  it('never lets more calls through than capacity plus refill in any window, across three workers', { timeout: 60_000 }, async () => {
    const { fake } = system;
    fake.script(defaultAnswer);
    const before = fake.requests.length;
    const ids = await submitBurst(25, 'Limited');
    await allComplete(ids);
    const times = fake.requests.slice(before).map((request) => request.at);
    expect(times).toHaveLength(25);
    // 5 per second with a bucket of 5: any one-second window holds at most 5 + 5 calls.
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(10);
    // And the limit did hold the work back: 20 calls past the first burst need 4 seconds.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(3500);
    for (const id of ids) expect((await getTask(system.server, id))!.errors).toEqual([]);
  });

  it('follows a new limit set in Redis without a restart', { timeout: 60_000 }, async () => {
    const { fake, redis } = system;
    const spreadOf = (before: number) => {
      const times = fake.requests.slice(before).map((request) => request.at);
      return Math.max(...times) - Math.min(...times);
    };
    await redis.client.set(keys.providerRateLimit(), '50/1s');
    // Workers re-read the override when they next call after their refresh (every 5 s): wait
    // until it is in force. 10 calls at once need at least a second under 5/1s (5 at once, then
    // one per 200 ms); under 50/1s they go out together.
    let probes = 0;
    await waitFor(async () => {
      probes += 1;
      const before = fake.requests.length;
      await allComplete(await submitBurst(10, `Probe ${probes}`));
      return spreadOf(before) < 800;
    }, { timeoutMs: 20_000, intervalMs: 0, message: 'the new limit to be in force' });
    const before = fake.requests.length;
    const ids = await submitBurst(20, 'Faster');
    await allComplete(ids);
    // Under 5/1s no one-second window can hold more than 5 + 5 calls; the 12 slots' first calls
    // go out together now. (How long all 20 take depends on the machine's load, not the limit.)
    expect(busiestWindow(fake.requests.slice(before).map((request) => request.at), 1000)).toBeGreaterThan(10);
    await redis.client.del(keys.providerRateLimit());
  });

  it('holds every worker\'s calls after a 429 with Retry-After', { timeout: 60_000 }, async () => {
    const { fake, server } = system;
    let sentLimit = false;
    fake.script((request) => {
      if (!sentLimit) {
        sentLimit = true;
        // 800 s, scaled like every delay (RETRY_DELAY_SCALE 0.001): 800 ms for everyone.
        return { ...errorAnswer(429, 'Rate limit exceeded'), headers: { 'retry-after': '800' } };
      }
      return defaultAnswer(request);
    });
    const first = await submitTask(server, `${SAMPLE_TEXT} Gets the 429.`);
    await waitFor(() => fake.requests.some((request) => JSON.stringify(request.body).includes('Gets the 429.')), { message: 'the 429' });
    const limitedAt = fake.requests.find((request) => JSON.stringify(request.body).includes('Gets the 429.'))!.at;
    const others = await submitBurst(6, 'After the 429');
    await allComplete([first.id, ...others]);
    const later = fake.requests.filter((request) => request.at > limitedAt);
    expect(later.length).toBeGreaterThanOrEqual(7);
    expect(Math.min(...later.map((request) => request.at)) - limitedAt).toBeGreaterThanOrEqual(750);
  });

  it("holds every worker's calls after OpenRouter's 402 in_flight_budget_exhausted, and counts the task no retry", { timeout: 60_000 }, async () => {
    const { fake, server } = system;
    let sentHold = false;
    fake.script((request) => {
      if (!sentHold) {
        sentHold = true;
        // 800 s, scaled like every delay (RETRY_DELAY_SCALE 0.001): 800 ms for everyone.
        return inFlightBudgetAnswer(800);
      }
      return defaultAnswer(request);
    });
    const first = await submitTask(server, `${SAMPLE_TEXT} Gets the in-flight 402.`);
    const held = await waitForTask(server, first.id, (task) => task.state === 'SCHEDULED');
    expect(held.history.at(-1)!.reason).toBe(TransitionReason.PROVIDER_HOLD);
    const heldAt = Date.now();
    const others = await submitBurst(4, 'After the in-flight 402');
    await allComplete([first.id, ...others]);
    const done = (await getTask(server, first.id))!;
    // A hold, not a failure: no error recorded, no retry counted, not the 5-minute credits schedule.
    expect(done).toMatchObject({ retryCount: 0, errors: [] });
    const later = fake.requests.filter((request) => request.at > heldAt);
    expect(later.length).toBeGreaterThanOrEqual(5);
    expect(Math.min(...later.map((request) => request.at)) - heldAt).toBeGreaterThanOrEqual(600);
  });

  it("sends a task to the DLQ at once on OpenRouter's 402 weight_exceeds_budget", { timeout: 60_000 }, async () => {
    const { fake, server } = system;
    fake.script((request) => (JSON.stringify(request.body).includes('Too big.') ? weightExceedsBudgetAnswer() : defaultAnswer(request)));
    const task = await submitTask(server, `${SAMPLE_TEXT} Too big.`);
    const dead = await waitForTask(server, task.id, 'DLQ');
    expect(dead.errors.map((error) => [error.errorClass, error.httpStatus])).toEqual([['REQUEST_OVER_BUDGET', 402]]);
    expect(dead.retryCount).toBe(0);
  });

  it('starts the tasks a rate-limit pause held once an operator lifts it', { timeout: 60_000 }, async () => {
    const { fake, redis } = system;
    fake.script(defaultAnswer);
    // What a 429 with Retry-After: 60 leaves: every worker holds its calls for a minute.
    await redis.client.set(keys.providerPausedUntil(), String(Date.now() + 60_000), 'PX', 61_000);
    const ids = await submitBurst(4, 'Held by the pause');
    for (const id of ids) expect(await heldUntil(id)).toBeGreaterThan(Date.now() + 30_000);
    const liftedAt = Date.now();
    await redis.client.del(keys.providerPausedUntil());
    await allComplete(ids, 15_000);
    await expectReleasedSoonAfter(ids, liftedAt, 10_000);
  });

  it('starts the tasks a slow limit held once an operator raises it', { timeout: 90_000 }, async () => {
    const { fake, redis } = system;
    fake.script(defaultAnswer);
    await redis.client.set(keys.providerRateLimit(), '1/60s');
    // Workers re-read the override every 5 s: probe until one of them defers a task for a minute.
    let probes = 0;
    const held: string[] = [];
    await waitFor(async () => {
      const id = (await submitTask(system.server, `${SAMPLE_TEXT} Slow limit ${(probes += 1)}.`)).id;
      const task = await waitForTask(system.server, id, (t) => t.state === 'COMPLETED' || (t.state === 'SCHEDULED' && t.history.some((h) => h.reason === TransitionReason.RATE_LIMITED)));
      if (task.state === 'COMPLETED') return false;
      held.push(id);
      return (await nextAttemptAt(id)) > Date.now() + 30_000;
    }, { timeoutMs: 40_000, intervalMs: 200, message: 'a task held by the slow limit' });
    const liftedAt = Date.now();
    await redis.client.set(keys.providerRateLimit(), '100/1s');
    await allComplete(held, 15_000);
    await expectReleasedSoonAfter(held.slice(-1), liftedAt, 10_000);
    await redis.client.del(keys.providerRateLimit());
  });
});
