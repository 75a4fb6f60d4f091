/**
 * Every error class end to end, with a worker calling a fake OpenRouter that answers the way
 * the real one does for that failure: the right number of provider calls, each retry delay
 * within [base, base × 1.1] of the class's schedule (scaled by RETRY_DELAY_SCALE), the right
 * terminal state and error records.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RETRY_SCHEDULES_MS } from '../schema/src/retry-policy.ts';
import { errorAnswer, type FakeAnswer } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, SAMPLE_TEXT, submitTask, waitForTask, type TaskView } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const SCALE = 0.001;
const MAX_RETRIES = 3;
const answers = new Map<string, FakeAnswer>();

const system = useSystem({
  fake: true,
  server: { MAX_RETRIES: String(MAX_RETRIES) },
  worker: { RETRY_DELAY_SCALE: String(SCALE), PROVIDER_TIMEOUT_MS: '400', WORKER_CONCURRENCY: '8', CIRCUIT_VOLUME_THRESHOLD: '100000' },
});

beforeAll(() => {
  // Each task's text names the answer it gets, so the classes can run side by side.
  system.fake.script((request) => {
    const marker = /CASE-([A-Z0-9_]+)/.exec(JSON.stringify(request.body))?.[1];
    return answers.get(marker ?? '') ?? errorAnswer(500, 'unscripted');
  });
});

interface Case {
  name: string;
  answer: FakeAnswer;
  errorClass: keyof typeof RETRY_SCHEDULES_MS;
  httpStatus: number | null;
}

const CASES: Case[] = [
  { name: 'CREDITS', answer: errorAnswer(402, 'Insufficient credits'), errorClass: 'INSUFFICIENT_CREDITS', httpStatus: 402 },
  { name: 'RATE', answer: errorAnswer(429, 'Rate limit exceeded'), errorClass: 'RATE_LIMIT', httpStatus: 429 },
  { name: 'WARMUP', answer: errorAnswer(503, 'Model is warming up'), errorClass: 'MODEL_WARMUP', httpStatus: 503 },
  { name: 'UNAVAILABLE', answer: errorAnswer(503, 'No instances available'), errorClass: 'SERVICE_UNAVAILABLE', httpStatus: 503 },
  { name: 'E500', answer: errorAnswer(500, 'Internal Server Error'), errorClass: 'NETWORK_TIMEOUT', httpStatus: 500 },
  { name: 'E502', answer: { status: 502, body: '<html>Bad Gateway</html>' }, errorClass: 'NETWORK_TIMEOUT', httpStatus: 502 },
  { name: 'E504', answer: { status: 504, body: '<html><body>504 Gateway Time-out</body></html>' }, errorClass: 'NETWORK_TIMEOUT', httpStatus: 504 },
  // A stream that never ends: keep-alive comments until the deadline cuts it off.
  { name: 'ENDLESS', answer: { events: Array(200).fill(': OPENROUTER PROCESSING'), eventDelayMs: 20 }, errorClass: 'NETWORK_TIMEOUT', httpStatus: null },
  { name: 'UPSTREAM', answer: { status: 200, body: { error: { code: 502, message: 'Upstream provider error' } } }, errorClass: 'PROVIDER_ERROR', httpStatus: 200 },
  { name: 'TRUNCATED', answer: { status: 200, body: '{"choices": [{"message": {"content": "Half' }, errorClass: 'PROVIDER_ERROR', httpStatus: 200 },
  { name: 'FILTER', answer: { status: 200, body: { choices: [{ finish_reason: 'content_filter', message: { content: '' } }] } }, errorClass: 'CONTENT_FILTER', httpStatus: 200 },
  { name: 'E400', answer: errorAnswer(400, 'Invalid model'), errorClass: 'PERMANENT', httpStatus: 400 },
  { name: 'E401', answer: errorAnswer(401, 'User not found'), errorClass: 'PERMANENT', httpStatus: 401 },
  { name: 'E403', answer: errorAnswer(403, 'Forbidden'), errorClass: 'PERMANENT', httpStatus: 403 },
  { name: 'E404', answer: errorAnswer(404, 'No endpoints found'), errorClass: 'PERMANENT', httpStatus: 404 },
];

describe('every error class', () => {
  it('gets its calls, its delays, its error records and its end', { timeout: 60_000 }, async () => {
    const { server, fake } = system;
    for (const c of CASES) answers.set(c.name, c.answer);
    const tasks = await Promise.all(CASES.map(async (c) => ({ c, id: (await submitTask(server, `${SAMPLE_TEXT} CASE-${c.name} here.`)).id })));
    const done = new Map<string, TaskView>();
    await waitFor(async () => {
      for (const { id } of tasks) {
        const task = await getTask(server, id);
        if (task?.state === 'DLQ') done.set(id, task);
      }
      return done.size === tasks.length;
    }, { timeoutMs: 45_000, intervalMs: 200, message: 'every case to reach the DLQ' });

    for (const { c, id } of tasks) {
      const task = done.get(id)!;
      const schedule = RETRY_SCHEDULES_MS[c.errorClass];
      const expectedCalls = schedule.length === 0 ? 1 : MAX_RETRIES + 1;
      const calls = fake.requests.filter((request) => JSON.stringify(request.body).includes(`CASE-${c.name} `)).length;
      expect({ case: c.name, calls }).toEqual({ case: c.name, calls: expectedCalls });
      expect(task.errors).toHaveLength(expectedCalls);
      for (const [index, error] of task.errors.entries()) {
        expect({ case: c.name, errorClass: error.errorClass, httpStatus: error.httpStatus, attempt: error.attempt }).toEqual({
          case: c.name,
          errorClass: c.errorClass,
          httpStatus: c.httpStatus,
          attempt: index + 1,
        });
        const isLast = index === task.errors.length - 1;
        if (isLast) {
          expect(error.nextAttemptAt).toBeNull();
          continue;
        }
        const base = schedule[Math.min(index, schedule.length - 1)]! * SCALE;
        const delay = Date.parse(error.nextAttemptAt!) - Date.parse(error.at);
        // [base, base × 1.1], give or take the millisecond the two clocks' readings round to.
        expect({ case: c.name, index, ok: delay >= base - 1 && delay <= base * 1.1 + 1 }).toEqual({ case: c.name, index, ok: true });
        // And the next attempt did not start before it was due.
        const nextStart = task.history.filter((h) => h.state === 'ACTIVE')[index + 1]!;
        expect(Date.parse(nextStart.at)).toBeGreaterThanOrEqual(Date.parse(error.nextAttemptAt!));
      }
    }
  });

  it('follows per-class schedules and limits from RETRY_SCHEDULES', { timeout: 30_000 }, async () => {
    // Only this worker runs now: the class is allowed 1 retry (the task's own limit is 3), after 200 s (scaled 200 ms).
    await system.restartWorker({ RETRY_SCHEDULES: JSON.stringify({ SERVICE_UNAVAILABLE: { delaysMs: [200_000], maxRetries: 1 } }) });
    answers.set('CUSTOM', errorAnswer(503, 'No instances available'));
    const { id } = await submitTask(system.server, `${SAMPLE_TEXT} CASE-CUSTOM here.`);
    const task = await waitForTask(system.server, id, 'DLQ');
    expect(task.errors).toHaveLength(2);
    const delay = Date.parse(task.errors[0]!.nextAttemptAt!) - Date.parse(task.errors[0]!.at);
    expect(delay).toBeGreaterThanOrEqual(199);
    expect(delay).toBeLessThanOrEqual(221);
  });
});
