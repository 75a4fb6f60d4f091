/**
 * The model breakers with real workers, each calling a fake OpenRouter of its own (so each
 * worker's calls can be told apart): a model that starts failing everywhere opens its shared
 * breaker, every worker stops calling it within a second of the opening Redis records, exactly
 * one call reaches it in each half-open period, a good probe closes it. A worker whose own
 * breaker never saw a failure skips an open model, its task waiting with reason CIRCUIT_OPEN and
 * no retry counted; operators' open and reset act on the model breakers; `models` (admin only)
 * and /metrics show them.
 */
import { describe, expect, it } from 'vitest';
import { CircuitState } from '../schema/src/circuit.ts';
import { decodeModelBreakers, type ModelBreakerRecord } from '../schema/src/model-breakers.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { createTaskScriptRunner } from '../common/task-script-runner.ts';
import { defaultAnswer, errorAnswer, type FakeOpenRouter, type FakeScript, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, graphql, metricSample, SAMPLE_TEXT, submitTask, waitForTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const MODEL = 'openai/gpt-4o-mini';
const BACKUP = 'backup/model';
const ADMIN = 'admin-model-key-0123456789';
const READER = 'reader-model-key-012345678';
const API_KEYS = JSON.stringify([
  { key: ADMIN, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
  { key: READER, tenant: 'acme', scopes: ['tasks:read', 'tasks:write'] },
]);
const WINDOW = { CIRCUIT_WINDOW_MS: '10000' };
const system = useSystem({ server: { API_KEYS, MAX_RETRIES: '30', WORKER_STALE_MS: '1000', OPENROUTER_MODELS: `${MODEL},${BACKUP}`, ...WINDOW } });

const workerEnv = (id: string, fake: FakeOpenRouter, extra: Record<string, string> = {}) => ({
  WORKER_ID: id,
  WORKER_CONCURRENCY: '2',
  OPENROUTER_API_KEY: 'sk-test',
  OPENROUTER_BASE_URL: fake.baseUrl,
  OPENROUTER_MODEL: MODEL,
  CIRCUIT_VOLUME_THRESHOLD: '4',
  CIRCUIT_FAILURE_THRESHOLD: '0.5',
  CIRCUIT_TIMEOUT: '1.5',
  // A probe's lease: a call's deadline and a second.
  PROVIDER_TIMEOUT_MS: '5000',
  ...WINDOW,
  ...extra,
});

const breakerNow = async (): Promise<ModelBreakerRecord | undefined> =>
  decodeModelBreakers(await system.redis.client.hgetall(system.keys.modelBreakers())).get(MODEL);
const admin = <T>(query: string, variables: Record<string, unknown> = {}) => graphql<T>(system.server, query, variables, ADMIN);
const submit = (text: string) => submitTask(system.server, `${SAMPLE_TEXT} ${text}`, {}, ADMIN);
const between = (requests: readonly RecordedRequest[], from: number, to: number) => requests.filter((request) => request.at >= from && request.at < to);

type ModelView = { model: string; configured: boolean; state: string; openedAt: string | null; halfOpenAt: string | null; calls: number; failures: number; failureRate: number };
const MODELS = `{ models { model configured state openedAt halfOpenAt calls failures failureRate } }`;

describe('model breakers', () => {
  it('open when the model fails everywhere, stop every worker within a second, and let one probe through per half-open period', async () => {
    let failing = true;
    // Failures take 100 ms, the good probe 300 ms: a second call during a probe would be seen.
    const answer: FakeScript = (request) => (failing ? { ...errorAnswer(503, 'No instances available'), delayMs: 100 } : { ...defaultAnswer(request), delayMs: 300 });
    const fakes = await Promise.all([1, 2, 3].map(() => system.startFake()));
    for (const fake of fakes) fake.script(answer);
    for (const [i, fake] of fakes.entries()) await system.startWorker(workerEnv(`model-${i}`, fake));
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) ids.push((await submit(`Model breaker ${i}.`)).id);

    const opened = await waitFor(async () => ((await breakerNow())?.state === CircuitState.OPEN ? (await breakerNow())! : null), { message: 'the model breaker to open' });
    const openings = [opened];
    // Two failed probes: each opens the breaker again, for another open time.
    for (const thenHeal of [false, true]) {
      const previous = openings.at(-1)!;
      const next = await waitFor(async () => {
        const breaker = await breakerNow();
        return breaker?.state === CircuitState.OPEN && breaker.openedAt! > previous.openedAt! ? breaker : null;
      }, { message: 'the breaker to open again after its probe failed' });
      openings.push(next);
      if (thenHeal) failing = false;
    }
    for (const id of ids) await waitForTask(system.server, id, 'COMPLETED', { apiKey: ADMIN, timeoutMs: 20_000 });
    expect((await breakerNow())!.state).toBe(CircuitState.CLOSED);

    const all = fakes.flatMap((fake) => fake.requests);
    const [first] = openings;
    // Every worker called the model before it opened, and none later than a second after.
    for (const fake of fakes) {
      const last = between(fake.requests, 0, first!.halfOpenAt!).at(-1)!;
      expect(last.at - first!.openedAt!).toBeLessThan(1000);
    }
    expect(between(all, first!.openedAt! + 1000, first!.halfOpenAt!)).toEqual([]);
    // One call in each half-open period that ended with the breaker open again (the failed probe) ...
    for (let k = 0; k < 2; k += 1) {
      expect(between(all, openings[k]!.halfOpenAt!, openings[k + 1]!.openedAt!), `half-open period ${k + 1}`).toHaveLength(1);
      expect(between(all, openings[k + 1]!.openedAt!, openings[k + 1]!.halfOpenAt!), `open period ${k + 2}`).toEqual([]);
    }
    // ... and in the last one, while the good probe was under way (300 ms), no other call.
    const probe = all.filter((request) => request.at >= openings[2]!.halfOpenAt!).sort((a, b) => a.at - b.at)[0]!;
    expect(between(all, openings[2]!.halfOpenAt!, probe.at + 250)).toHaveLength(1);

    const failed = await metricSample(system.server, `atf_model_calls_total{model="${MODEL}",outcome="failed"}`);
    expect(failed).toBeGreaterThanOrEqual(6);
    expect(await metricSample(system.server, `atf_model_calls_total{model="${MODEL}",outcome="ok"}`)).toBeGreaterThanOrEqual(12);
    expect(await metricSample(system.server, `atf_model_breaker_state{model="${MODEL}"}`)).toBe(0);
  });

  it('makes a worker whose own breaker saw no failure skip an open model: its task waits, reason CIRCUIT_OPEN, no retry counted', async () => {
    // Another deployment's workers opened it: calls recorded straight into the shared state.
    const runScript = createTaskScriptRunner(system.redis.client, system.keys);
    const settings = { windowMs: 10_000, volumeThreshold: 4, failureRatio: 0.5, openMs: 60_000 };
    const keys = system.keys;
    // The calls that completed the tasks above are in the window: start from none.
    await runScript('modelBreakersReset', { taskId: '', tenant: '' }, { maxEvents: 1, actor: '' }, { breakers: keys.modelBreakers() }, {});
    for (let i = 0; i < 4; i += 1) {
      await runScript('modelBreakerRecord', { taskId: '', tenant: '' }, { maxEvents: 1, actor: '' }, {
        breakers: keys.modelBreakers(), calls: keys.modelCalls(MODEL), probe: keys.modelProbe(MODEL), totals: keys.modelCallTotals(),
      }, { model: MODEL, outcome: 'failed', probeToken: '', ...settings });
    }
    expect((await breakerNow())!.state).toBe(CircuitState.OPEN);
    const fake = await system.startFake();
    const worker = await system.startWorker(workerEnv('fresh', fake));
    const task = await submit('Skips the open model.');
    const deferred = await waitForTask(system.server, task.id, (view) => view.history.some((h) => h.reason === TransitionReason.CIRCUIT_OPEN), { apiKey: ADMIN });
    expect(deferred.history.find((h) => h.reason === TransitionReason.CIRCUIT_OPEN)!.workerId).toBe(worker.workerId);
    expect(fake.requests).toEqual([]);
    const standing = await graphql<{ task: { waitReason: string | null } }>(system.server, `query ($id: ID!) { task(id: $id) { waitReason } }`, { id: task.id }, ADMIN);
    expect(standing.data!.task.waitReason).toBe('CIRCUIT_OPEN');
    const workers = await admin<{ workers: { id: string; circuit: { state: string; failures: number } }[] }>(`{ workers { id circuit { state failures } } }`);
    expect(workers.data!.workers.find((w) => w.id === 'fresh')!.circuit).toEqual({ state: 'CLOSED', failures: 0 });

    const listed = (await admin<{ models: ModelView[] }>(MODELS)).data!.models;
    expect(listed.map((m) => [m.model, m.configured, m.state])).toEqual([
      [MODEL, true, 'OPEN'],
      [BACKUP, true, 'CLOSED'],
    ]);
    expect(listed[0]).toMatchObject({ calls: 4, failures: 4, failureRate: 1 });
    expect(Date.parse(listed[0]!.halfOpenAt!) - Date.parse(listed[0]!.openedAt!)).toBe(60_000);

    // The runbook's reset closes it; the held task goes at once, without a retry counted.
    expect((await fetch(`${system.server.url}/health/workers/reset-circuit-breaker`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect((await breakerNow())!.state).toBe(CircuitState.CLOSED);
    const done = await waitForTask(system.server, task.id, 'COMPLETED', { apiKey: ADMIN });
    expect(done.retryCount).toBe(0);
    expect(fake.requests).toHaveLength(1);
  });

  it('forces every model open, configured or called, until a reset; models is for admins only', async () => {
    const fake = await system.startFake();
    await system.startWorker(workerEnv('forced', fake));
    const opened = await admin<{ openCircuitBreakers: unknown[] }>(`mutation { openCircuitBreakers { id } }`);
    expect(opened.errors).toBeUndefined();
    const listed = (await admin<{ models: ModelView[] }>(MODELS)).data!.models;
    expect(listed.filter((m) => m.configured).map((m) => [m.model, m.state, m.halfOpenAt])).toEqual([
      [MODEL, 'OPEN', null],
      [BACKUP, 'OPEN', null],
    ]);
    expect(await metricSample(system.server, `atf_model_breaker_state{model="${BACKUP}"}`)).toBe(2);
    const task = await submit('Forced open.');
    await waitForTask(system.server, task.id, (view) => view.history.some((h) => h.reason === TransitionReason.CIRCUIT_OPEN), { apiKey: ADMIN });
    expect(fake.requests).toEqual([]);

    const refused = await graphql(system.server, MODELS, {}, READER);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const reset = await admin<{ resetCircuitBreakers: unknown[] }>(`mutation { resetCircuitBreakers { id } }`);
    expect(reset.errors).toBeUndefined();
    expect((await admin<{ models: ModelView[] }>(MODELS)).data!.models.map((m) => m.state)).toEqual(['CLOSED', 'CLOSED']);
    await waitForTask(system.server, task.id, 'COMPLETED', { apiKey: ADMIN });
    expect((await getTask(system.server, task.id, ADMIN))!.retryCount).toBe(0);
  });
});
