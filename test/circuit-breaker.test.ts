/**
 * The circuit breaker with real workers and a failing fake provider: it opens after the
 * threshold, the provider sees no calls while it is open, tasks wait without losing retries,
 * one probe closes it; operators' reset and forced open reach every worker, even one that
 * was not running when the command was given; a reset releases the tasks the breakers held.
 */
import { describe, expect, it } from 'vitest';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { defaultAnswer, errorAnswer } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, graphql, SAMPLE_TEXT, submitTask, subscribe, waitForTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ fake: true, server: { MAX_RETRIES: '3', WORKER_STALE_MS: '1000' } });

type WorkerView = { id: string; alive: boolean; circuit: { state: string; failures: number; openedAt: string | null; halfOpenAt: string | null } };
const WORKERS = `{ workers { id alive circuit { state failures openedAt halfOpenAt } } }`;

const workerEnv = (id: string) => ({
  WORKER_ID: id,
  WORKER_CONCURRENCY: '1',
  CIRCUIT_VOLUME_THRESHOLD: '3',
  CIRCUIT_FAILURE_THRESHOLD: '0.5',
  CIRCUIT_WINDOW_MS: '10000',
  CIRCUIT_TIMEOUT: '0.8',
});

const NEXT_ATTEMPT = `query ($id: ID!) { task(id: $id) { nextAttemptAt } }`;
const nextAttemptAt = async (id: string) => Date.parse((await graphql<{ task: { nextAttemptAt: string } }>(system.server, NEXT_ATTEMPT, { id })).data!.task.nextAttemptAt);

const workersNow = async () => (await graphql<{ workers: WorkerView[] }>(system.server, WORKERS)).data!.workers;

describe('circuit breaker', () => {
  it('opens after the threshold, stops provider calls, keeps retries, and closes after one good probe', async () => {
    const { server, fake } = system;
    fake.script(() => errorAnswer(503, 'No instances available'));
    await system.startWorker(workerEnv('breaker-a'));
    const ids = [];
    for (let i = 0; i < 6; i += 1) ids.push((await submitTask(server, `${SAMPLE_TEXT} Breaker ${i}.`)).id);
    const open = await waitFor(async () => (await workersNow()).find((w) => w.id === 'breaker-a' && w.circuit.state === 'OPEN'), {
      message: 'the breaker to open',
    });
    expect(open.circuit.failures).toBeGreaterThanOrEqual(2);
    const openedAt = Date.parse(open.circuit.openedAt!);
    const halfOpenAt = Date.parse(open.circuit.halfOpenAt!);
    expect(halfOpenAt - openedAt).toBe(800);

    // Healed provider: the half-open probe succeeds and the breaker closes.
    fake.script(defaultAnswer);
    for (const id of ids) await waitForTask(server, id, 'COMPLETED', { timeoutMs: 15_000 });
    // While it was open, the provider saw nothing.
    const duringOpen = fake.requests.filter((request) => request.at > openedAt + 20 && request.at < halfOpenAt - 20);
    expect(duringOpen).toEqual([]);
    // Tasks waited without losing retries: every error on record is a real failed call.
    let deferred = 0;
    for (const id of ids) {
      const task = (await getTask(server, id))!;
      expect(task.retryCount).toBe(task.errors.length);
      expect(task.retryCount).toBeLessThanOrEqual(3);
      deferred += task.history.filter((h) => h.reason === TransitionReason.CIRCUIT_OPEN).length;
    }
    expect(deferred).toBeGreaterThan(0);
    expect((await workersNow()).find((w) => w.id === 'breaker-a')!.circuit).toMatchObject({ state: 'CLOSED', failures: 0, openedAt: null });
  });

  it('forces every breaker open and resets them, on running workers and on one that starts later', async () => {
    const { server, fake } = system;
    fake.script(defaultAnswer);
    await system.startWorker(workerEnv('breaker-b'));
    await system.startWorker(workerEnv('breaker-c'));
    const client = system.wsClient();
    const feed = subscribe<WorkerView[]>(client, `subscription { workersUpdated { id alive circuit { state failures openedAt halfOpenAt } } }`, {}, 'workersUpdated');
    await feed.waitFor((list) => list.some((w) => w.id === 'breaker-c' && w.circuit.state === 'CLOSED'));
    const opened = await graphql<{ openCircuitBreakers: WorkerView[] }>(server, `mutation { openCircuitBreakers { id circuit { state halfOpenAt } } }`);
    // The live view shows it too, without asking.
    await feed.waitFor((list) => ['breaker-b', 'breaker-c'].every((id) => list.find((w) => w.id === id)?.circuit.state === 'OPEN'));
    feed.dispose();
    const live = opened.data!.openCircuitBreakers.filter((w) => w.id === 'breaker-b' || w.id === 'breaker-c');
    expect(live.map((w) => w.circuit)).toEqual([
      { state: 'OPEN', halfOpenAt: null },
      { state: 'OPEN', halfOpenAt: null },
    ]);

    const before = fake.requests.length;
    const task = await submitTask(server, `${SAMPLE_TEXT} Forced open.`);
    await waitFor(async () => (await getTask(server, task.id))?.history.some((h) => h.reason === TransitionReason.CIRCUIT_OPEN), {
      message: 'the task to be deferred',
    });
    expect(fake.requests.length).toBe(before);

    // A worker that was not there when the command was given applies it at start.
    await system.startWorker(workerEnv('breaker-d'));
    await waitFor(async () => (await workersNow()).find((w) => w.id === 'breaker-d')?.circuit.state === 'OPEN', { message: 'the late worker to be open' });

    const resetRoute = `${server.url}/health/workers/reset-circuit-breaker`;
    // Not from another site, whatever the content type.
    for (const contentType of ['application/json', 'application/x-www-form-urlencoded', 'text/plain']) {
      const crossSite = await fetch(resetRoute, { method: 'POST', headers: { 'content-type': contentType, origin: 'https://evil.example' }, body: 'a=b' });
      expect(crossSite.status, contentType).toBe(403);
    }
    // The runbook's bare `curl -X POST`: no body, no content type, no Origin.
    const reset = await fetch(resetRoute, { method: 'POST' });
    expect(reset.status).toBe(200);
    const body = (await reset.json()) as { workers: WorkerView[] };
    expect(body.workers.filter((w) => w.alive).map((w) => w.circuit.state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    await waitForTask(server, task.id, 'COMPLETED');

    const listed = (await (await fetch(`${server.url}/health/workers`)).json()) as { workers: WorkerView[] };
    expect(listed.workers.map((w) => w.id)).toEqual(expect.arrayContaining(['breaker-b', 'breaker-c', 'breaker-d']));
    expect((await fetch(`${server.url}/health/workers/reset-circuit-breaker`)).status).toBe(405);
  });

  it('releases the tasks the breakers held as soon as an operator resets them, once each', async () => {
    const { server, fake } = system;
    fake.script(defaultAnswer);
    // The production timeout: a held task would wait a minute for its breaker's probe.
    for (const id of ['held-a', 'held-b']) await system.startWorker({ ...workerEnv(id), CIRCUIT_TIMEOUT: '60' });
    const opened = await graphql<{ openCircuitBreakers: WorkerView[] }>(server, `mutation { openCircuitBreakers { id circuit { state } } }`);
    expect(opened.data!.openCircuitBreakers.filter((w) => w.id.startsWith('held-')).map((w) => w.circuit.state)).toEqual(['OPEN', 'OPEN']);

    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push((await submitTask(server, `${SAMPLE_TEXT} Held ${i}.`)).id);
    for (const id of ids) {
      await waitForTask(server, id, (task) => task.state === 'SCHEDULED' && task.history.some((h) => h.reason === TransitionReason.CIRCUIT_OPEN));
      expect(await nextAttemptAt(id)).toBeGreaterThan(Date.now() + 30_000);
    }

    // The runbook's `curl -X POST`.
    const resetAt = Date.now();
    expect((await fetch(`${server.url}/health/workers/reset-circuit-breaker`, { method: 'POST' })).status).toBe(200);
    for (const id of ids) {
      const task = await waitForTask(server, id, 'COMPLETED', { timeoutMs: 15_000 });
      // Both workers applied the reset; each task was released once, and started at once.
      expect(task.history.filter((h) => h.reason === TransitionReason.RELEASED_BY_CIRCUIT_RESET)).toHaveLength(1);
      const started = task.history.filter((h) => h.state === 'ACTIVE').at(-1)!;
      expect(Date.parse(started.at) - resetAt).toBeLessThan(10_000);
      expect(task.retryCount).toBe(0);
    }
  });
});
