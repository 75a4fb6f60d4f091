/**
 * retries: how late a delayed retry starts. Tasks are submitted at a steady rate to two workers
 * whose provider (the fake OpenRouter, in this process) answers each task's first call with a
 * 429 and its second with a summary, so every task is retried once, RETRY_DELAY_MS after its
 * failure. The lateness of a retry is when its second attempt was claimed minus when it was due
 * (`nextAttemptAt` of its error), both stamped by Redis' clock in the task's record and events.
 * Also counts Redis commands per task over the whole run (submit, both attempts, the delayed
 * job's promotion), so a promotion that polls shows what it costs.
 */
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { defaultAnswer, errorAnswer, startFakeOpenRouter } from '../../tools/fake-openrouter.ts';
import type { Row } from '../lib/report.ts';
import { latencySummary, postGraphQL, redisCommandCount } from '../lib/measure.ts';
import { startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';

const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';
const RETRY_DELAY_MS = 2000;
// Tasks a second and seconds: well inside what two workers drain (end-to-end runs at about 1,400/s),
// so a retry's lateness is its promotion's and not a backlog's (the first attempts' wait shows that).
const LOAD = [60, 10] as const;
const QUICK_LOAD = [30, 3] as const;
const WORKERS = 2;

interface RetryRun {
  tasks: number;
  /** Claim of the retry minus its due time, ms, one per task. */
  lateness: number[];
  /** Claim of the first attempt minus the submit, ms: the wait of work that needs no promotion, at the same load. */
  firstWait: number[];
  commandsPerTask: number;
}

/** Submits `perSecond` tasks a second for `seconds`, open loop; resolves with the ids. */
async function submitSteadily(api: Running, perSecond: number, seconds: number, label: string): Promise<string[]> {
  const ids: Promise<string>[] = [];
  const started = performance.now();
  const total = perSecond * seconds;
  while (ids.length < total) {
    // Catch up to where the schedule says we should be, then sleep a tick.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond) + 1);
    while (ids.length < due) {
      const n = ids.length;
      const body = JSON.stringify({ query: SUBMIT, variables: { input: { content: `Retry bench ${label} task ${n}. It has two sentences.` } } });
      ids.push(postGraphQL(api.url, body).then((answer) => (answer.data?.submitTask as { id: string }).id));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Promise.all(ids);
}

/**
 * Each task's retry lateness (the second ACTIVE transition's time minus its first error's
 * `nextAttemptAt`) and first wait (the first ACTIVE transition's time minus the submit's).
 */
async function latenessOf(system: BenchSystem, ids: string[]): Promise<{ lateness: number[]; firstWait: number[] }> {
  const keys = createRedisKeys();
  const redis = system.redis.client;
  const lateness: number[] = [];
  const firstWait: number[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const batch = ids.slice(i, i + 200);
    const pipeline = redis.pipeline();
    for (const id of batch) pipeline.hget(keys.task(id), 'errors').xrange(keys.taskEvents(id), '-', '+');
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((_, j) => {
      const errors = JSON.parse((replies[2 * j]![1] as string | null) ?? '[]') as { nextAttemptAt?: number }[];
      const events = replies[2 * j + 1]![1] as [string, string[]][];
      const transitions = events
        .map(([, fields]) => Object.fromEntries(fields.flatMap((value, k) => (k % 2 === 0 ? [[value, fields[k + 1]!]] : []))))
        .filter((event) => event.kind === 'transition');
      const claims = transitions.filter((event) => event.state === 'ACTIVE');
      const due = errors[0]?.nextAttemptAt;
      if (due !== undefined && claims[1]) lateness.push(Number(claims[1].at) - due);
      if (transitions[0] && claims[0]) firstWait.push(Number(claims[0].at) - Number(transitions[0].at));
    });
  }
  return { lateness, firstWait };
}

async function oneRun(system: BenchSystem, api: Running, rep: number): Promise<RetryRun> {
  const fake = await startFakeOpenRouter();
  const seen = new Set<string>();
  fake.script((request) => {
    const text = JSON.stringify(request.body);
    if (seen.has(text)) return defaultAnswer(request);
    seen.add(text);
    // No Retry-After: a RATE_LIMIT retry on its schedule, with no shared pause.
    return errorAnswer(429, 'Rate limit exceeded');
  });
  const workers = await startWorkers(system, WORKERS, {
    PROVIDER: 'auto',
    OPENROUTER_API_KEY: 'sk-bench',
    OPENROUTER_BASE_URL: fake.baseUrl,
    RETRY_SCHEDULES: JSON.stringify({ RATE_LIMIT: { delaysMs: [RETRY_DELAY_MS] } }),
  });
  try {
    const keys = createRedisKeys();
    const redis = system.redis.client;
    const [perSecond, seconds] = system.quick ? QUICK_LOAD : LOAD;
    const commandsBefore = await redisCommandCount(redis);
    const ids = await submitSteadily(api, perSecond, seconds, `r${rep}`);
    let polls = 0;
    const deadline = Date.now() + 60_000;
    while ((await redis.zcard(keys.tasksInState('COMPLETED'))) < ids.length) {
      if (Date.now() > deadline) throw new Error('retried tasks did not all complete within a minute');
      polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Our own polls and INFO are commands too.
    const commands = (await redisCommandCount(redis)) - commandsBefore - polls - 2;
    return { tasks: ids.length, ...(await latenessOf(system, ids)), commandsPerTask: commands / ids.length };
  } finally {
    await stopAll(workers);
    await fake.close();
  }
}

export async function benchRetries(system: BenchSystem, api: Running, flush: () => Promise<void>): Promise<Row[]> {
  const runs: RetryRun[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) {
    runs.push(await oneRun(system, api, rep));
    await flush();
    const run = runs.at(-1)!;
    const summary = latencySummary(run.lateness);
    const first = latencySummary(run.firstWait);
    system.log(
      `retries rep ${rep + 1}: ${run.lateness.length}/${run.tasks} retries, lateness p50 ${summary.p50} ms, p99 ${summary.p99} ms, max ${Math.max(...run.lateness)} ms (first attempts' wait p50 ${first.p50} ms, p99 ${first.p99} ms); ${run.commandsPerTask.toFixed(1)} Redis commands per task`,
    );
  }
  const summaries = runs.map((run) => latencySummary(run.lateness));
  const firstWaits = runs.map((run) => latencySummary(run.firstWait));
  const load = `${(system.quick ? QUICK_LOAD : LOAD)[0]} tasks/s`;
  return [
    { scenario: 'retries', measure: `retry lateness p50 (start - due, ${load}, each retried once)`, unit: 'ms', runs: summaries.map((s) => s.p50) },
    { scenario: 'retries', measure: 'retry lateness p99', unit: 'ms', runs: summaries.map((s) => s.p99), target: { on: 'value', op: '<=', value: 250 } },
    { scenario: 'retries', measure: 'retry lateness max', unit: 'ms', runs: runs.map((run) => Math.max(...run.lateness)) },
    // The same load's wait for work that needs no promotion: what a retry's lateness is compared to.
    { scenario: 'retries', measure: 'first attempt wait p50 (claim - submit)', unit: 'ms', runs: firstWaits.map((s) => s.p50) },
    { scenario: 'retries', measure: 'first attempt wait p99', unit: 'ms', runs: firstWaits.map((s) => s.p99) },
    { scenario: 'retries', measure: 'Redis commands per retried task (submit, 2 attempts, promotion)', unit: '', runs: runs.map((run) => run.commandsPerTask) },
  ];
}
