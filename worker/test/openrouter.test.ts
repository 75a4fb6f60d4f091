/**
 * The OpenRouter path end to end: real server, real worker, real HTTP calls to a fake
 * provider on loopback that speaks the chat-completions shape.
 */
import { describe, expect, it } from 'vitest';
import { errorAnswer, defaultAnswer } from '../../tools/fake-openrouter.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { SAMPLE_TEXT, submitTask, waitForTask } from '../../test/support/system.ts';
import { keysContaining } from '../../test/support/redis-text.ts';
import { SUMMARY_SYSTEM_PROMPT } from '../tasks/summarize.ts';

const API_KEY = 'sk-or-test-canary-7f3a';
const MODEL = 'test-vendor/test-model';

const system = useSystem({
  fake: true,
  server: { MAX_RETRIES: '2' },
  worker: {
    OPENROUTER_API_KEY: API_KEY,
    OPENROUTER_MODEL: MODEL,
    // Long enough for a 1 MB answer on a loaded machine, short of the 3 s delay the deadline test uses.
    PROVIDER_TIMEOUT_MS: '1500',
    MAX_RESPONSE_BYTES: String(1024 * 1024),
    // Each test here scripts failures on purpose: keep the circuit breaker out of the way.
    CIRCUIT_VOLUME_THRESHOLD: '100000',
  },
});
/** Answers the first call after scripting with `first`, every later one normally. */
function failOnce(first: (request: Parameters<typeof defaultAnswer>[0]) => ReturnType<typeof defaultAnswer>) {
  let calls = 0;
  system.fake.script((request) => {
    calls += 1;
    return calls === 1 ? first(request) : defaultAnswer(request);
  });
}

const finished = (id: string) => waitForTask(system.server, id, ['COMPLETED', 'DLQ']);

describe('OpenRouter provider', () => {
  it('sends the model, the prompt and the key, and stores the summary and usage', async () => {
    system.fake.script(defaultAnswer);
    const before = system.fake.requests.length;
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const done = await finished(task.id);

    expect(done.state).toBe('COMPLETED');
    expect(done.result).toBe('Summary: Redis is an in-memory data store used as a database, cache and message broker.');
    expect(done.usage).toMatchObject({ model: MODEL, promptTokens: expect.any(Number), totalTokens: expect.any(Number) });

    const sent = system.fake.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/api/v1/chat/completions');
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent[0]!.headers['content-type']).toContain('application/json');
    expect(sent[0]!.body).toMatchObject({
      model: MODEL,
      messages: [
        { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
        { role: 'user', content: SAMPLE_TEXT },
      ],
    });
  });

  it('sends an HTTP 401 straight to the dead letter queue as PERMANENT, after one call', async () => {
    system.fake.script(() => errorAnswer(401, 'User not found.'));
    const before = system.fake.requests.length;
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Unauthorised.`);
    const done = await finished(task.id);

    expect(done.state).toBe('DLQ');
    expect(system.fake.requests.length - before).toBe(1);
    expect(done.errors).toEqual([
      expect.objectContaining({ errorClass: 'PERMANENT', httpStatus: 401, message: 'User not found.', attempt: 1 }),
    ]);
    expect(done.history.map((h) => h.state)).toEqual(['PENDING', 'ACTIVE', 'DLQ']);
  });

  it('retries a 502 on the retry queue and completes on the next attempt', async () => {
    failOnce(() => errorAnswer(502, 'Bad gateway'));
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Flaky.`);
    const done = await finished(task.id);

    expect(done.state).toBe('COMPLETED');
    expect(done.retryCount).toBe(1);
    expect(done.errors).toEqual([expect.objectContaining({ errorClass: 'NETWORK_TIMEOUT', httpStatus: 502, attempt: 1 })]);
    expect(done.history.map((h) => h.state)).toEqual(['PENDING', 'ACTIVE', 'SCHEDULED', 'ACTIVE', 'COMPLETED']);
  });

  it('gives up after MAX_RETRIES retries and keeps every error', async () => {
    system.fake.script(() => errorAnswer(503, 'Service unavailable'));
    const before = system.fake.requests.length;
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Down.`);
    const done = await finished(task.id);

    expect(done.state).toBe('DLQ');
    expect(done.maxRetries).toBe(2);
    expect(system.fake.requests.length - before).toBe(3);
    expect(done.errors.map((e) => [e.errorClass, e.attempt])).toEqual([
      ['SERVICE_UNAVAILABLE', 1],
      ['SERVICE_UNAVAILABLE', 2],
      ['SERVICE_UNAVAILABLE', 3],
    ]);
  });

  it('classifies a 200 answer that is not JSON as PROVIDER_ERROR', async () => {
    failOnce(() => ({ status: 200, body: '<html>oops' }));
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Broken body.`);
    const done = await finished(task.id);
    expect(done.errors[0]).toMatchObject({ errorClass: 'PROVIDER_ERROR', httpStatus: 200 });
    expect(done.state).toBe('COMPLETED');
  });

  it('cuts a call off at the deadline and records NETWORK_TIMEOUT', async () => {
    failOnce((request) => ({ ...defaultAnswer(request), delayMs: 3000 }));
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Slow.`);
    const done = await finished(task.id);
    expect(done.errors[0]).toMatchObject({ errorClass: 'NETWORK_TIMEOUT', httpStatus: null });
    expect(done.state).toBe('COMPLETED');
  });

  it('streams the answer and reports progress while it arrives', async () => {
    system.fake.script((request) => ({ ...defaultAnswer(request), eventDelayMs: 5 }));
    const long = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} talks about queues and retries in some depth.`).join(' ');
    const task = await submitTask(system.server, long);
    const done = await finished(task.id);
    expect(done.state).toBe('COMPLETED');
    expect(done.result).toBe('Summary: Sentence number 0 talks about queues and retries in some depth.');
    expect(done.usage?.totalTokens).toBeGreaterThan(0);
    const sent = system.fake.requests.at(-1)!;
    expect(sent.body).toMatchObject({ stream: true });
    const progress = (await system.redis.client.xrange(system.keys.taskEvents(task.id), '-', '+')).filter(([, fields]) => fields.includes('progress'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it('classifies an error inside the stream as PROVIDER_ERROR, and a stream that breaks off too', async () => {
    failOnce(() => ({
      events: [
        ': OPENROUTER PROCESSING',
        JSON.stringify({ choices: [{ delta: { content: 'Partial ' } }] }),
        JSON.stringify({ error: { code: 502, message: 'Upstream model crashed' }, choices: [{ delta: {}, finish_reason: 'error' }] }),
      ],
    }));
    const midStream = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Mid-stream error.`)).id);
    expect(midStream.errors[0]).toMatchObject({ errorClass: 'PROVIDER_ERROR', message: 'Upstream model crashed', httpStatus: 200 });
    expect(midStream.state).toBe('COMPLETED');

    failOnce((request) => ({ ...defaultAnswer(request), breakAfterEvents: 2 }));
    const broken = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Broken stream.`)).id);
    expect(broken.errors[0]).toMatchObject({ errorClass: 'PROVIDER_ERROR' });
    expect(broken.state).toBe('COMPLETED');
  });

  it('waits at least as long as a 429\'s Retry-After before the next attempt', async () => {
    // Retry-After 300 s, scaled like every delay (RETRY_DELAY_SCALE 0.001): 300 ms, longer than
    // the RATE_LIMIT schedule's first step (60 s, scaled 60 ms).
    failOnce(() => ({ ...errorAnswer(429, 'Rate limit exceeded'), headers: { 'retry-after': '300' } }));
    const done = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Rate limited.`)).id);
    const error = done.errors[0]!;
    expect(error).toMatchObject({ errorClass: 'RATE_LIMIT', httpStatus: 429 });
    const waitedMs = Date.parse(error.nextAttemptAt!) - Date.parse(error.at);
    expect(waitedMs).toBeGreaterThanOrEqual(295);
    expect(waitedMs).toBeLessThanOrEqual(360);
    const attempts = done.history.filter((h) => h.state === 'ACTIVE').map((h) => Date.parse(h.at));
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(290);
  });

  it('tells a model that is warming up from a plain 503', async () => {
    failOnce(() => errorAnswer(503, 'Model is currently loading, please retry'));
    const warm = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Warm-up.`)).id);
    expect(warm.errors[0]).toMatchObject({ errorClass: 'MODEL_WARMUP', httpStatus: 503 });
    failOnce(() => ({ status: 504, body: '<html><body>504 Gateway Time-out</body></html>' }));
    const gateway = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Gateway.`)).id);
    expect(gateway.errors[0]).toMatchObject({ errorClass: 'NETWORK_TIMEOUT', httpStatus: 504, message: 'HTTP 504' });
  });

  it('cuts off an answer larger than MAX_RESPONSE_BYTES', async () => {
    failOnce(() => ({ status: 200, body: JSON.stringify({ filler: 'x'.repeat(10 * 1024 * 1024) }) }));
    const done = await finished((await submitTask(system.server, `${SAMPLE_TEXT} Huge.`)).id);
    expect(done.errors[0]).toMatchObject({ errorClass: 'PROVIDER_ERROR', message: expect.stringContaining('exceeded') });
    expect(done.state).toBe('COMPLETED');
  });

  it('never writes the API key to Redis', async () => {
    expect(await keysContaining(system.redis.client, API_KEY)).toEqual([]);
    // The search itself works: the model name, which is meant to be stored, is found.
    expect((await keysContaining(system.redis.client, MODEL)).length).toBeGreaterThan(0);
  });
});
