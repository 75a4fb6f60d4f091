/**
 * Model chains with a real worker against the fake OpenRouter over HTTP (docs/operations.md,
 * "Model chains"): a stream that breaks after output began finishes on the next model, its text
 * starting over with a reset chunk that names the model; a context-length refusal and a
 * content-filter refusal go to the next model at once; the chain goes to OpenRouter as its
 * `models` parameter; a submit's own chain, an idempotency key resent with other models
 * (CONFLICT), and the refusal of a model OPENROUTER_ALLOWED_MODELS
 * does not list; a task whose whole chain is open waits (reason CIRCUIT_OPEN) with no retry
 * counted; a model whose breaker opened is skipped for the next model by every worker within a
 * second, with one probe per half-open period. Every call records the model that answered, its
 * chain place and the switch reason.
 */
import { describe, expect, it } from 'vitest';
import { CircuitState } from '../schema/src/circuit.ts';
import { encodeModelBreaker } from '../schema/src/model-breakers.ts';
import { parseOutputEntry } from '../schema/src/scripts/output.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import type { FakeOpenRouter } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { graphql, metricSample, SAMPLE_TEXT, waitForTask } from './support/system.ts';

const PRIMARY = 'vendor/primary';
const SECOND = 'vendor/second';
const THIRD = 'vendor/third';
const SAFE = 'vendor/safe';
const OTHER = 'vendor/other';
const ALLOWED = [PRIMARY, SECOND, THIRD, SAFE];
const system = useSystem({ server: { OPENROUTER_MODELS: `${PRIMARY},${SECOND},${THIRD}`, OPENROUTER_ALLOWED_MODELS: ALLOWED.join(','), MAX_RETRIES: '5' } });

const workerEnv = (fake: FakeOpenRouter, extra: Record<string, string> = {}) => ({
  OPENROUTER_API_KEY: 'sk-test',
  OPENROUTER_BASE_URL: fake.baseUrl,
  OPENROUTER_MODELS: `${PRIMARY},${SECOND},${THIRD}`,
  WORKER_CONCURRENCY: '4',
  RETRY_DELAY_SCALE: '0.001',
  OUTPUT_FLUSH_MS: '5',
  CIRCUIT_VOLUME_THRESHOLD: '1000',
  ...extra,
});

const CHAIN_FIELDS = `id state result retryCount
  history { state reason model chainIndex switchReason }
  usage { model calls perCall { attempt model chainIndex switchReason generationId promptTokens completionTokens costUsd estimated } }`;
interface ChainTask {
  id: string;
  state: string;
  result: string | null;
  retryCount: number;
  history: { state: string; reason: string | null; model: string | null; chainIndex: number | null; switchReason: string | null }[];
  usage: { model: string; calls: number; perCall: { attempt: number; model: string; chainIndex: number | null; switchReason: string | null; generationId: string | null; estimated: boolean }[] } | null;
}

async function submit(content: string, models?: string[]) {
  return graphql<{ submitTask: { id: string } }>(system.server, 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
    input: { content, ...(models ? { models } : {}) },
  });
}

async function submitted(content: string, models?: string[]): Promise<string> {
  const answer = await submit(content, models);
  if (!answer.data) throw new Error(JSON.stringify(answer.errors));
  return answer.data.submitTask.id;
}

async function chainTask(id: string): Promise<ChainTask> {
  const answer = await graphql<{ task: ChainTask }>(system.server, `query ($id: ID!) { task(id: $id) { ${CHAIN_FIELDS} } }`, { id });
  if (!answer.data?.task) throw new Error(JSON.stringify(answer.errors));
  return answer.data.task;
}

/** The task's output stream as Redis holds it (the last attempt's chunks). */
async function outputChunks(id: string) {
  const entries = (await system.redis.client.xrange(system.keys.taskOutput(id), '-', '+')) as [string, string[]][];
  return entries.map(([cursor, fields]) => parseOutputEntry(id, cursor, fields));
}

describe('model chains', () => {
  it('finishes a stream that broke after output began on the next model: reset chunk with its model, text equal to the result, no retry counted', async () => {
    const fake = await system.startFake();
    fake.setModel(PRIMARY, { chunks: 12, breakAfterChunks: 4 });
    await system.startWorker(workerEnv(fake));
    const id = await submitted(`${SAMPLE_TEXT} Broken stream.`);
    await waitForTask(system.server, id, 'COMPLETED');
    const task = await chainTask(id);
    expect(task.retryCount).toBe(0);
    const switched = task.history.find((entry) => entry.reason === TransitionReason.MODEL_SWITCH);
    expect(switched).toMatchObject({ state: 'SCHEDULED', model: PRIMARY, chainIndex: 0, switchReason: 'STREAM_BROKEN' });
    expect(task.history.at(-1)).toMatchObject({ state: 'COMPLETED', model: SECOND, chainIndex: 1, switchReason: null });
    expect(task.usage!.perCall.map((call) => [call.attempt, call.model, call.chainIndex, call.switchReason])).toEqual([
      [1, PRIMARY, 0, null],
      [2, SECOND, 1, 'STREAM_BROKEN'],
    ]);
    expect(task.usage!.model).toBe(SECOND);
    // The second call named the rest of the chain from the model after the one that broke.
    const sent = fake.requests.map((request) => request.body as { model: string; models?: string[] });
    expect(sent.map((body) => [body.model, body.models])).toEqual([
      [PRIMARY, [PRIMARY, SECOND, THIRD]],
      [SECOND, [SECOND, THIRD, PRIMARY]],
    ]);
    const chunks = await outputChunks(id);
    expect(chunks[0]).toMatchObject({ attempt: 2, seq: 1, reset: true, model: SECOND });
    expect(chunks.slice(1).every((chunk) => chunk.model === null)).toBe(true);
    let text = '';
    for (const chunk of chunks) text = chunk.reset ? chunk.text : text + chunk.text;
    expect(text).toBe(task.result);
    // The model recorded is the one the fake answered with, call by call.
    const served = new Map(fake.requests.map((request) => [request.generationId, request.servedModel]));
    for (const call of task.usage!.perCall) expect(call.model).toBe(served.get(call.generationId!));
    expect(await metricSample(system.server, 'atf_model_switches_total{reason="STREAM_BROKEN"}')).toBeGreaterThanOrEqual(1);
  });

  it('sends the chain as OpenRouter models: a model down before any output is passed over on its side, in one call and one bill', async () => {
    const fake = await system.startFake();
    fake.setModel(PRIMARY, { down: true });
    await system.startWorker(workerEnv(fake));
    const id = await submitted(`${SAMPLE_TEXT} Primary down.`);
    await waitForTask(system.server, id, 'COMPLETED');
    const task = await chainTask(id);
    expect(fake.requests).toHaveLength(1);
    expect(fake.bill().generations.map((generation) => generation.model)).toEqual([SECOND]);
    expect(task.usage!.perCall).toMatchObject([{ attempt: 1, model: SECOND, chainIndex: 1, switchReason: null }]);
    expect(task.history.at(-1)).toMatchObject({ state: 'COMPLETED', model: SECOND, chainIndex: 1 });
  });

  it('moves a context-length refusal to the next model at once, with no retry counted', async () => {
    const fake = await system.startFake();
    // Without OpenRouter's own fallback, the refusal reaches the worker.
    fake.setServerFallback(false);
    fake.setModel(PRIMARY, { maxContextTokens: 10 });
    await system.startWorker(workerEnv(fake));
    const id = await submitted(`${SAMPLE_TEXT} Too long for the primary.`);
    await waitForTask(system.server, id, 'COMPLETED');
    const task = await chainTask(id);
    expect(task.retryCount).toBe(0);
    expect(task.history.find((entry) => entry.reason === TransitionReason.MODEL_SWITCH)).toMatchObject({ state: 'SCHEDULED', switchReason: 'CONTEXT_LENGTH' });
    expect(task.history.at(-1)).toMatchObject({ state: 'COMPLETED', model: SECOND, chainIndex: 1 });
    expect(fake.requests.map((request) => [request.servedModel ?? null, request.modelTries?.[0]?.status])).toEqual([
      [null, 400],
      [SECOND, 200],
    ]);
    expect(task.usage!.perCall).toMatchObject([{ attempt: 2, model: SECOND, switchReason: 'CONTEXT_LENGTH' }]);
  });

  it('fails a context-length refusal by the last model for good, and an operator retry starts the chain over', async () => {
    const fake = await system.startFake();
    fake.setServerFallback(false);
    for (const model of [PRIMARY, SECOND, THIRD]) fake.setModel(model, { maxContextTokens: 10 });
    await system.startWorker(workerEnv(fake));
    const id = await submitted(`${SAMPLE_TEXT} Too long for every model.`);
    await waitForTask(system.server, id, 'DLQ');
    const failed = await chainTask(id);
    expect(failed.retryCount).toBe(0);
    expect(failed.history.filter((entry) => entry.reason === TransitionReason.MODEL_SWITCH).map((entry) => entry.switchReason)).toEqual(['CONTEXT_LENGTH', 'CONTEXT_LENGTH']);
    expect(fake.requests.map((request) => (request.body as { model: string }).model)).toEqual([PRIMARY, SECOND, THIRD]);

    for (const model of [PRIMARY, SECOND, THIRD]) fake.setModel(model, null);
    const retried = await graphql(system.server, 'mutation ($id: ID!) { retryTask(id: $id) { id } }', { id });
    expect(retried.errors).toBeUndefined();
    await waitForTask(system.server, id, 'COMPLETED');
    expect((await chainTask(id)).history.at(-1)).toMatchObject({ state: 'COMPLETED', model: PRIMARY, chainIndex: 0 });
  });

  it('moves a content-filter refusal at once to OPENROUTER_CONTENT_FILTER_FALLBACK', async () => {
    const fake = await system.startFake();
    for (const model of [PRIMARY, SECOND, THIRD]) fake.setModel(model, { contentFilter: /FLAGGED/ });
    await system.startWorker(workerEnv(fake, { OPENROUTER_CONTENT_FILTER_FALLBACK: SAFE }));
    const id = await submitted(`${SAMPLE_TEXT} FLAGGED words.`);
    await waitForTask(system.server, id, 'COMPLETED');
    const task = await chainTask(id);
    expect(task.retryCount).toBe(0);
    expect(task.history.find((entry) => entry.reason === TransitionReason.MODEL_SWITCH)).toMatchObject({ switchReason: 'CONTENT_FILTER' });
    expect(task.history.at(-1)).toMatchObject({ state: 'COMPLETED', model: SAFE, chainIndex: 3 });
    expect((fake.requests.at(-1)!.body as { model: string; models?: string[] })).toMatchObject({ model: SAFE });
    expect((fake.requests.at(-1)!.body as { models?: string[] }).models).toBeUndefined();
  });

  it("runs a submit's own chain, and refuses a model OPENROUTER_ALLOWED_MODELS does not list, storing nothing", async () => {
    const fake = await system.startFake();
    await system.startWorker(workerEnv(fake));
    const id = await submitted(`${SAMPLE_TEXT} Own chain.`, [THIRD, SAFE]);
    await waitForTask(system.server, id, 'COMPLETED');
    expect(fake.requests[0]!.body).toMatchObject({ model: THIRD, models: [THIRD, SAFE] });
    expect((await chainTask(id)).history.at(-1)).toMatchObject({ model: THIRD, chainIndex: 0 });

    const before = await system.redis.client.zcard(system.keys.taskIds());
    for (const models of [[PRIMARY, OTHER], [], [PRIMARY, PRIMARY], ['bad model id']]) {
      const refused = await submit(`${SAMPLE_TEXT} Refused chain.`, models);
      expect(refused.data).toBeNull();
      expect(refused.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
    const refused = await submit(`${SAMPLE_TEXT} Refused chain.`, [OTHER]);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { reason: 'MODEL_NOT_ALLOWED', models: [OTHER] } });
    expect(await system.redis.client.zcard(system.keys.taskIds())).toBe(before);
  });

  it('treats a resend with the same idempotency key but other models as another request: CONFLICT, nothing stored', async () => {
    const send = (models?: string[]) =>
      graphql<{ submitTask: { id: string } }>(system.server, 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
        input: { content: `${SAMPLE_TEXT} Keyed chain.`, idempotencyKey: 'chain-key-1', ...(models ? { models } : {}) },
      });
    const first = await send([THIRD, SAFE]);
    const id = first.data!.submitTask.id;
    expect((await send([THIRD, SAFE])).data!.submitTask.id).toBe(id);
    const before = await system.redis.client.zcard(system.keys.taskIds());
    for (const models of [[SAFE, THIRD], [THIRD], undefined]) {
      const resent = await send(models);
      expect(resent.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', details: { taskId: id } });
    }
    expect(await system.redis.client.zcard(system.keys.taskIds())).toBe(before);
    // Without models, a key keeps its meaning: the same content is the same task.
    const plain = await graphql<{ submitTask: { id: string } }>(system.server, 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
      input: { content: `${SAMPLE_TEXT} Keyed, no chain.`, idempotencyKey: 'chain-key-2' },
    });
    const again = await graphql<{ submitTask: { id: string } }>(system.server, 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', {
      input: { content: `${SAMPLE_TEXT} Keyed, no chain.`, idempotencyKey: 'chain-key-2' },
    });
    expect(again.data!.submitTask.id).toBe(plain.data!.submitTask.id);
    // No worker ran them: cancelled, so the next test's worker does not take them up.
    for (const taskId of [id, plain.data!.submitTask.id]) {
      expect((await graphql(system.server, 'mutation ($id: ID!) { cancelTask(id: $id) { id } }', { id: taskId })).errors).toBeUndefined();
    }
  });

  it('holds a task whose whole chain is open, with reason CIRCUIT_OPEN and no retry counted, until a model may be tried', async () => {
    const fake = await system.startFake();
    await system.startWorker(workerEnv(fake, { CIRCUIT_TIMEOUT: '30' }));
    const [seconds, micros] = await system.redis.client.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const open = encodeModelBreaker({ state: CircuitState.OPEN, openedAt: now, halfOpenAt: now + 2500, probeUntil: null });
    await system.redis.client.hset(system.keys.modelBreakers(), THIRD, open, SAFE, open);
    // Every worker reads the breakers at least every 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const id = await submitted(`${SAMPLE_TEXT} Whole chain open.`, [THIRD, SAFE]);
    const waiting = await waitForTask(system.server, id, (task) => task.history.some((entry) => entry.reason === TransitionReason.CIRCUIT_OPEN));
    expect(waiting.retryCount).toBe(0);
    expect(waiting.errors).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    // Waiting for the breakers, as the record says (the task page's wait reason reads it).
    expect(await system.redis.client.hget(system.keys.task(id), 'waitReason')).toBe('CIRCUIT_OPEN');
    // At the probe time one model is tried (the probe) and the task completes.
    const done = await waitForTask(system.server, id, 'COMPLETED', { timeoutMs: 10_000 });
    expect(done.retryCount).toBe(0);
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('skips a model whose breaker opened within a second on every worker, for the next model of the chain, with one probe per half-open period', async () => {
    const fake = await system.startFake();
    fake.setModel(PRIMARY, { down: true });
    const env = workerEnv(fake, { CIRCUIT_VOLUME_THRESHOLD: '4', CIRCUIT_FAILURE_THRESHOLD: '0.5', CIRCUIT_TIMEOUT: '1', CIRCUIT_WINDOW_MS: '10000', WORKER_CONCURRENCY: '2' });
    for (const id of ['chain-a', 'chain-b', 'chain-c']) await system.startWorker({ ...env, WORKER_ID: id });
    const breaker = async () => (await system.redis.client.hget(system.keys.modelBreakers(), PRIMARY)) ?? '';
    const openings: number[] = [];
    const ids: string[] = [];
    // Tasks keep coming for 4.5 s; every one completes on the second model.
    const until = Date.now() + 4500;
    while (Date.now() < until) {
      ids.push(await submitted(`${SAMPLE_TEXT} Breaker ${ids.length}.`));
      const [state, openedAt] = (await breaker()).split(':');
      if (state === 'OPEN' && Number(openedAt) !== openings.at(-1)) openings.push(Number(openedAt));
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    for (const id of ids) await waitForTask(system.server, id, 'COMPLETED');
    expect(openings.length).toBeGreaterThanOrEqual(2);
    const naming = (request: (typeof fake.requests)[number]) => (request.body as { model: string }).model === PRIMARY || ((request.body as { models?: string[] }).models ?? []).includes(PRIMARY);
    // From a second after it opened, only its probes name it: exactly one per half-open period.
    for (const [i, openedAt] of openings.entries()) {
      const next = openings[i + 1] ?? Number.POSITIVE_INFINITY;
      const calls = fake.requests.filter((request) => request.at >= openedAt + 1000 && request.at < next && naming(request));
      // The probe that failed opened it again; the last period's probe may not have come yet.
      if (i < openings.length - 1) expect(calls.length, `calls naming the primary after opening ${i}`).toBe(1);
      else expect(calls.length).toBeLessThanOrEqual(1);
      for (const call of calls) expect((call.body as { model: string }).model).toBe(PRIMARY);
    }
    expect(fake.bill().generations.every((generation) => generation.model === SECOND)).toBe(true);
  });
});
