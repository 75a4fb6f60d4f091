/**
 * Issue 23, offline: the spans of real tasks through the real server, workers and Redis and the
 * fake OpenRouter, read from the SDK's in-memory exporter (server and workers in this process
 * share one tracing SDK) and, for the worker that is SIGKILLed, from a loopback OTLP receiver
 * its child process exports to. Checks the span tree and links of a task that completes, one
 * that retries 3 times, one cancelled mid-stream and one whose worker dies; every attribute name
 * against the specification; and the size bound with 10 retries, in both parentings.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../common/tracing.ts';
import { tracingConfigFrom } from '../common/tracing-config.ts';
import { ANONYMOUS_TENANT } from '../server/auth/scopes.ts';
import { createServerTracing } from '../server/tracing/server-tracing.ts';
import { defaultAnswer, errorAnswer, streamedAnswer, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { workerTracing } from '../worker/tracing/worker-tracing.ts';
import { useSystem } from './support/fixtures.ts';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.ts';
import { GEN_AI_LATEST, GEN_AI_V1_41, HTTP_SERVER_V1_41, isOwnAttribute, MESSAGING_V1_41 } from './support/semconv-spec.ts';
import { fakeProviderEnv, graphql, startServer, type RunningServer, type TestWorker } from './support/system.ts';
import { loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { createWorker } from '../worker/worker.ts';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { attemptsOf, byTrace, childrenOf, fromReadable, linkOf, SpanKindOf, spansOfTask, type SpanRecord } from './support/trace-tree.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ fake: true, server: false });
const exporter = new InMemorySpanExporter();
const tracings: Tracing[] = [];
let server: RunningServer;
let receiver: OtlpReceiver;

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_SPAN = '00f067aa0ba902b7';

/** A tracing SDK writing to the shared in-memory exporter, with these OTEL_* settings. */
async function tracingWith(env: Record<string, string> = {}): Promise<Tracing> {
  const config = tracingConfigFrom({
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    OTEL_TRACES_SAMPLER_ARG: 1,
    OTEL_BSP_SCHEDULE_DELAY: 5000,
    OTEL_GENAI_CAPTURE_CONTENT: true,
    ...env,
  } as Parameters<typeof tracingConfigFrom>[0]);
  const tracing = (await startTracing(config, { defaultServiceName: 'atf-test', exporter, exportEachSpan: true }))!;
  tracings.push(tracing);
  return tracing;
}

const spans = (): SpanRecord[] => exporter.getFinishedSpans().map(fromReadable);

/** Every line the workers of `withWorker` logged, parsed. */
const logLines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

/** A traced in-process worker logging into `logLines`; `run` stops it after. */
async function withWorker<T>(run: (worker: TestWorker) => Promise<T>, options: { env?: Record<string, string>; tracing?: Record<string, string> } = {}): Promise<T> {
  const tracing = await tracingWith(options.tracing);
  const config = loadWorkerConfig({
    REDIS_URL: system.redis.url,
    REDIS_KEY_PREFIX: system.prefix,
    ...fakeProviderEnv(system.fake),
    HEARTBEAT_INTERVAL_MS: '200',
    STALL_INTERVAL_MS: '500',
    RETRY_DELAY_SCALE: '0.001',
    SWEEP_INTERVAL_MS: '300',
    LEASE_MS: '1500',
    CIRCUIT_VOLUME_THRESHOLD: '1000',
    ...options.env,
  });
  const worker = createWorker(config, pino({ level: 'debug' }, capture), { tracing: workerTracing(tracing) });
  await worker.start();
  try {
    return await run(worker);
  } finally {
    await worker.stop(100);
  }
}

async function submit(content: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', variables: { input: { content } } }),
  });
  const body = (await response.json()) as { data: { submitTask: { id: string } } };
  return body.data.submitTask.id;
}

async function taskOf(id: string) {
  const answer = await graphql<{ task: { state: string; traceId: string | null } }>(server, 'query ($id: ID!) { task(id: $id) { state traceId } }', { id });
  return answer.data!.task;
}

const waitForState = (id: string, states: string[], timeoutMs = 15_000) =>
  waitFor(async () => states.includes((await taskOf(id)).state), { timeoutMs, message: `task ${id} to be ${states.join(' or ')}` });

/** Waits until the task's last attempt span has ended (spans are exported as they end). */
const waitForAttempts = (id: string, count: number) =>
  waitFor(() => (attemptsOf(spansOfTask(spans(), id)).length >= count ? true : null), { timeoutMs: 15_000, message: `${count} attempt spans of ${id}` });

/** Fails the first `times` calls whose prompt holds `marker`. */
const failures = new Map<string, number>();
function script(request: RecordedRequest) {
  const text = JSON.stringify(request.body);
  const marker = /FAIL(\d+)-[a-z0-9]+/.exec(text);
  if (marker) {
    const seen = failures.get(marker[0]) ?? 0;
    failures.set(marker[0], seen + 1);
    if (seen < Number(marker[1])) return errorAnswer(500, 'upstream exploded');
  }
  if (text.includes('SLOW-')) return streamedAnswer(request, { chunks: 200, delayMs: 50 });
  if (text.includes('HANG-') && !failures.has(text)) {
    failures.set(text, 1);
    return { ...defaultAnswer(request), delayMs: 60_000 };
  }
  return defaultAnswer(request);
}

/** The usage ledger's record of `taskId`'s (only) provider call. */
async function ledgerEntryOf(taskId: string): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const ledger = await system.redis.client.xrange(system.keys.usageLedger(), '-', '+');
      const entries = ledger.map(([, fields]) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i]!, fields[i + 1]!]] : []))));
      return entries.find((fields) => fields.taskId === taskId);
    },
    { message: `the ledger entry of ${taskId}` },
  );
}

const unique = () => Math.random().toString(36).slice(2, 10);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  system.fake.script(script);
  server = await startServer(system.redis.url, { REDIS_KEY_PREFIX: system.prefix, MAX_RETRIES: '10' }, { tracing: createServerTracing(await tracingWith()) });
  // A budget for the anonymous caller's tenant: every attempt holds its call's cost (the budget hold span).
  const budget = await graphql(server, `mutation { setBudget(tenant: "${ANONYMOUS_TENANT}", period: DAY, limitUsd: 1000) { limitUsd } }`);
  expect(budget.errors).toBeUndefined();
});

afterAll(async () => {
  await server?.stop();
  for (const tracing of tracings) await tracing.shutdown();
  await receiver?.close();
});

describe('the spans of one task', () => {
  it('a completed task: SERVER and PRODUCER continue the incoming traceparent; the attempt is a new root linked to the producer, with the wait, the budget hold and the model call', async () => {
    const id = await withWorker(async () => {
      const id = await submit(`Summarize this ${unique()}.`, { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` });
      await waitForState(id, ['COMPLETED']);
      await waitForAttempts(id, 1);
      return id;
    });
    const all = spansOfTask(spans(), id);
    const serverSpan = all.find((span) => span.kind === SpanKindOf.SERVER)!;
    const producer = all.find((span) => span.kind === SpanKindOf.PRODUCER)!;
    expect(serverSpan).toMatchObject({ traceId: INCOMING_TRACE, parentSpanId: INCOMING_SPAN, name: 'POST /graphql' });
    expect(serverSpan.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 });
    expect(producer).toMatchObject({ traceId: INCOMING_TRACE, parentSpanId: serverSpan.spanId, name: 'send primary' });
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'redis', 'messaging.operation.type': 'send', 'atf.task.id': id, 'atf.task.submit_outcome': 'created' });
    expect((await taskOf(id)).traceId).toBe(INCOMING_TRACE);

    const [attempt] = attemptsOf(all);
    expect(attempt).toMatchObject({ name: 'process primary', parentSpanId: null });
    expect(attempt!.traceId).not.toBe(INCOMING_TRACE);
    expect(attempt!.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'atf.task.attempt': 1, 'atf.attempt.outcome': 'completed', 'atf.task.claim_reason': 'claimed' });
    expect(linkOf(attempt!, 'producer')).toMatchObject({ traceId: INCOMING_TRACE, spanId: producer.spanId });
    expect(linkOf(attempt!, 'previous_attempt')).toBeUndefined();

    const children = childrenOf(all, attempt!);
    expect(children.map((span) => span.name).sort()).toEqual(['budget hold', 'chat openai/gpt-4o-mini', 'dispatch wait']);
    const wait = children.find((span) => span.name === 'dispatch wait')!;
    expect(wait.attributes['atf.dispatch.wait_reason']).toBe('QUEUED');
    expect(wait.startMs).toBeGreaterThanOrEqual(attempt!.startMs - 1);
    expect(children.find((span) => span.name === 'budget hold')!.attributes).toMatchObject({ 'atf.budget.outcome': 'held' });

    const chat = children.find((span) => span.name.startsWith('chat '))!;
    expect(chat.kind).toBe(SpanKindOf.CLIENT);
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openrouter',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.request.max_tokens': 1024,
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
    });
    expect(chat.attributes['gen_ai.response.id']).toMatch(/^gen-/);
    expect(chat.attributes['gen_ai.response.model']).toBeTypeOf('string');
    expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(chat.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(chat.attributes['atf.response.chunks']).toBeGreaterThan(1);
    expect(chat.events.filter((event) => event.name === 'atf.first_chunk')).toHaveLength(1);
    // OTEL_GENAI_CAPTURE_CONTENT=true here: the prompt and the answer are on the span.
    expect(String(chat.attributes['gen_ai.input.messages'])).toContain('Summarize this');
    expect(JSON.parse(String(chat.attributes['gen_ai.output.messages']))[0]).toMatchObject({ role: 'assistant', finish_reason: 'stop' });

    // The cost on the span is the ledger's, to the nano-dollar.
    const entry = await ledgerEntryOf(id);
    expect(chat.attributes['atf.usage.cost_nano_usd']).toBe(Number(entry.costNano));
    expect(chat.attributes['atf.openrouter.generation_id']).toBe(entry.generationId);
  });

  it('a task that retries 3 times: four attempts, each linked to the one before and to the producer, waiting out RETRY_DELAY', async () => {
    const id = await withWorker(async () => {
      const id = await submit(`FAIL3-${unique()} text`);
      await waitForState(id, ['COMPLETED']);
      await waitForAttempts(id, 4);
      return id;
    });
    const all = spansOfTask(spans(), id);
    const producer = all.find((span) => span.kind === SpanKindOf.PRODUCER)!;
    const attempts = attemptsOf(all);
    expect(attempts.map((span) => span.attributes['atf.attempt.outcome'])).toEqual(['retry', 'retry', 'retry', 'completed']);
    for (const [index, attempt] of attempts.entries()) {
      expect(linkOf(attempt, 'producer')).toMatchObject({ traceId: producer.traceId, spanId: producer.spanId });
      const chat = childrenOf(all, attempt).find((span) => span.name.startsWith('chat '))!;
      if (index < 3) {
        expect(attempt.attributes['error.type']).toBe(chat.attributes['error.type']);
        expect(chat.status).toBe(2);
      }
      if (index === 0) continue;
      const before = attempts[index - 1]!;
      expect(linkOf(attempt, 'previous_attempt')).toMatchObject({ traceId: before.traceId, spanId: before.spanId });
      expect(childrenOf(all, attempt).find((span) => span.name === 'dispatch wait')!.attributes['atf.dispatch.wait_reason']).toBe('RETRY_DELAY');
    }
  });

  it('a task cancelled mid-stream: the model call ends with the cancel, after its first chunk; the attempt says cancelled', async () => {
    const marker = `SLOW-${unique()}`;
    const id = await withWorker(async () => {
      const id = await submit(`${marker} text`);
      await waitFor(() => system.fake.requests.some((request) => JSON.stringify(request.body).includes(marker) && (request.eventsSent ?? 0) > 3), { message: 'the stream to start' });
      await graphql(server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id });
      await waitForState(id, ['CANCELLED']);
      await waitForAttempts(id, 1);
      return id;
    });
    const all = spansOfTask(spans(), id);
    const [attempt] = attemptsOf(all);
    expect(attempt!.attributes['atf.attempt.outcome']).toBe('cancelled');
    const chat = childrenOf(all, attempt!).find((span) => span.name.startsWith('chat '))!;
    expect(chat.attributes['error.type']).toBe('CancelledError');
    expect(chat.events.map((event) => event.name)).toContain('atf.first_chunk');
    expect(chat.attributes['atf.response.chunks']).toBeGreaterThan(0);
    // Every line the attempt wrote (its logger binds `attempt`) carries the attempt span's ids.
    const lines = logLines.filter((line) => line.taskId === id && line.attempt === 1);
    expect(lines.map((line) => line.msg)).toContain('attempt aborted: task cancelled');
    for (const line of lines) expect(line).toMatchObject({ trace_id: attempt!.traceId, span_id: attempt!.spanId });
    // A cut-off call is still billed: its cost is on the span as in the ledger.
    expect(chat.attributes['atf.usage.cost_nano_usd']).toBe(Number((await ledgerEntryOf(id)).costNano));
  });

  it('a task whose worker is SIGKILLed mid-call: the takeover attempt links to the lost attempt, whose spans its process had exported', async () => {
    const child = await system.spawnWorker({
      REDIS_KEY_PREFIX: system.prefix,
      ...fakeProviderEnv(system.fake),
      LEASE_MS: '1500',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const id = await submit(`HANG-${unique()} text`);
    await waitFor(() => system.fake.requests.some((request) => JSON.stringify(request.body).includes('HANG-')), { message: 'the child worker to call the provider' });
    // What the child ended before the call (its dispatch wait, its budget hold) reaches the receiver.
    const lostWait = await waitFor(() => receiver.spans.find((span) => span.name === 'dispatch wait' && span.service === 'atf-worker'), { message: 'the child to export its dispatch wait' });
    child.signal('SIGKILL');
    await child.exited;
    await withWorker(async () => {
      await waitForState(id, ['COMPLETED'], 20_000);
      await waitForAttempts(id, 1);
    });
    const all = spansOfTask(spans(), id);
    const [takeover] = attemptsOf(all);
    expect(takeover!.attributes).toMatchObject({ 'atf.task.attempt': 2, 'atf.task.claim_reason': 'reclaimed after lease expiry' });
    // The link names the span the killed process started (its dispatch wait's parent), which never ended.
    expect(linkOf(takeover!, 'previous_attempt')).toMatchObject({ traceId: lostWait.traceId, spanId: lostWait.parentSpanId });
    expect(receiver.spans.some((span) => span.spanId === lostWait.parentSpanId)).toBe(false);
    expect(childrenOf(all, takeover!).find((span) => span.name === 'dispatch wait')!.attributes['atf.dispatch.wait_reason']).toBe('LEASE');
  });
});

describe('the bound', () => {
  it('10 retries: the submit trace and each attempt stay within 50 spans plus 20 an attempt, linked or as children', async () => {
    for (const parenting of ['link', 'child'] as const) {
      const id = await withWorker(
        async () => {
          const id = await submit(`FAIL10-${unique()} text`);
          await waitForState(id, ['COMPLETED'], 30_000);
          await waitForAttempts(id, 11);
          return id;
        },
        { tracing: { OTEL_TASK_PARENTING: parenting } },
      );
      const all = spansOfTask(spans(), id);
      const attempts = attemptsOf(all);
      expect(attempts).toHaveLength(11);
      for (const [traceId, members] of byTrace(all)) {
        const attemptsInTrace = members.filter((span) => span.kind === SpanKindOf.CONSUMER).length;
        expect(members.length, `trace ${traceId}`).toBeLessThanOrEqual(50 + 20 * attemptsInTrace);
      }
      if (parenting === 'child') {
        expect(byTrace(all).size).toBe(1);
        expect(attempts.every((attempt) => attempt.parentSpanId === all.find((span) => span.kind === SpanKindOf.PRODUCER)!.spanId)).toBe(true);
      } else {
        expect(byTrace(all).size).toBe(12);
      }
    }
  }, 90_000);

  it('sweeps, heartbeats and stall checks add no span: every span exported belongs to a task', () => {
    const known = /^(POST \/graphql|send primary|process (primary|retry)|dispatch wait|budget hold|chat .+)$/;
    const all = spans();
    expect(all.filter((span) => !known.test(span.name))).toEqual([]);
    const taskTraces = new Set(all.filter((span) => span.attributes['atf.task.id']).map((span) => span.traceId));
    expect(all.filter((span) => !taskTraces.has(span.traceId))).toEqual([]);
  });
});

describe('attribute names', () => {
  function misnamed(all: SpanRecord[], genAi: Set<string>): string[] {
    const allowed = (span: SpanRecord) =>
      span.name.startsWith('chat ') ? genAi : span.kind === SpanKindOf.SERVER ? HTTP_SERVER_V1_41 : span.kind === SpanKindOf.INTERNAL ? new Set(['error.type']) : MESSAGING_V1_41;
    const wrong: string[] = [];
    for (const span of all) {
      for (const name of Object.keys(span.attributes)) if (!allowed(span).has(name) && !isOwnAttribute(name)) wrong.push(`${span.name}: ${name}`);
      for (const name of [...span.events, ...span.links].flatMap((item) => Object.keys(item.attributes))) if (!isOwnAttribute(name)) wrong.push(`${span.name} (event or link): ${name}`);
    }
    return wrong;
  }

  it('every name is in the v1.41 conventions or ours (atf.*)', () => {
    expect(spans().length).toBeGreaterThan(20);
    expect(misnamed(spans(), GEN_AI_V1_41)).toEqual([]);
  });

  it('with OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental, the GenAI repository latest names instead', async () => {
    const before = new Set(spans().map((span) => span.spanId));
    const id = await withWorker(
      async () => {
        const id = await submit(`Latest names ${unique()}.`);
        await waitForState(id, ['COMPLETED']);
        await waitForAttempts(id, 1);
        return id;
      },
      { tracing: { OTEL_SEMCONV_STABILITY_OPT_IN: 'http,gen_ai_latest_experimental' } },
    );
    const fresh = spansOfTask(spans(), id).filter((span) => !before.has(span.spanId));
    expect(misnamed(fresh, GEN_AI_LATEST)).toEqual([]);
    const chat = fresh.find((span) => span.name.startsWith('chat '))!;
    expect(chat.attributes['gen_ai.usage.text.input_tokens']).toBe(chat.attributes['gen_ai.usage.input_tokens']);
    // The latest deprecates the finish reason inside output messages (gen_ai.response.finish_reasons has it).
    expect(JSON.parse(String(chat.attributes['gen_ai.output.messages']))[0].finish_reason).toBeUndefined();
  });
});
