/**
 * Redis faults under load: the script cache flushed, Redis restarted (AOF on) while tasks
 * run, and bee-queue's job timeout firing while the handler still runs. Workers are real
 * processes; every accepted task must end exactly once, and the audit must come out clean.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanAudit } from './support/audit.ts';
import { expectErrors, REDIS_OUTAGE_ERRORS, useSystem } from './support/fixtures.ts';
import { getTask, graphql, SAMPLE_TEXT, slowWhenMarked, submitTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';
import type { WorkerProcess } from './support/worker-process.ts';

const system = useSystem({ redis: { appendOnly: true }, fake: true, server: { JOB_TIMEOUT_MS: '1000' } });
const { keys } = system;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  // SLOW-<ms> as marked; every other call takes 20-100 ms, so work is in flight when Redis is hit.
  system.fake.script((request) => ({ delayMs: 20 + Math.random() * 80, ...slowWhenMarked(request) }));
  for (let i = 0; i < 2; i += 1) {
    workers.push(await system.spawnWorker({ LEASE_MS: '2000', SWEEP_INTERVAL_MS: '500', WORKER_CONCURRENCY: '4' }));
  }
});

const expectAllFinishedAndClean = (ids: readonly string[]) =>
  expectCleanAudit(system.redis.client, keys, ids, {
    timeoutMs: 30_000,
    context: () => `recent worker logs:\n${workers.flatMap((worker) => worker.lines.slice(-15)).join('\n')}`,
  });

/** Submits `count` tasks, retrying submits that fail while Redis is away (they are not accepted). */
async function submitMany(count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await graphql<{ submitTask: { id: string } }>(system.server, `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`, {
      input: { content: `${SAMPLE_TEXT} ${label} ${i}.` },
    });
    if (response.data) ids.push(response.data.submitTask.id);
  }
  return ids;
}

describe('Redis faults', () => {
  it('recovers from SCRIPT FLUSH under load without losing or doubling a task (bee-queue trap 3: NOSCRIPT)', async () => {
    const { redis, server } = system;
    // Whether a queue command meets NOSCRIPT before the reload depends on timing.
    expectErrors(/NOSCRIPT/, 'the script cache is flushed on purpose');
    const first = submitMany(40, 'flush-a');
    // Under load: some tasks already stored and running when the cache goes.
    await waitFor(async () => (await redis.client.zcard(keys.tasksInState('ACTIVE'))) + (await redis.client.zcard(keys.tasksInState('COMPLETED'))) >= 5, {
      message: 'work in flight',
    });
    await redis.client.script('FLUSH');
    const ids = [...(await first), ...(await submitMany(20, 'flush-b'))];
    expect(ids).toHaveLength(60);
    await expectAllFinishedAndClean(ids);
    // The workers met NOSCRIPT and reloaded their scripts instead of failing forever.
    expect(workers.some((worker) => worker.lines.some((line) => line.includes('reloaded after NOSCRIPT')))).toBe(true);
    for (const id of ids) expect((await getTask(server, id))!.state).toBe('COMPLETED');
  });

  it('recovers from a Redis restart under load: every accepted task ends exactly once', { timeout: 60_000 }, async () => {
    const { redis, server } = system;
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is restarted on purpose');
    const before = await submitMany(30, 'restart-a');
    const linesBefore = workers.map((worker) => worker.lines.length);
    await redis.stop();
    // While Redis is away, submits fail fast and are not accepted.
    const during = await graphql(server, `mutation { submitTask(input: { content: "during the outage" }) { id } }`);
    expect(during.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    // Every worker has lost its connection before Redis comes back.
    await waitFor(() => workers.every((worker, i) => worker.lines.slice(linesBefore[i]).some((line) => line.includes('"msg":"redis connection error"'))), {
      message: 'every worker to notice the outage',
    });
    await redis.start();
    const after = await waitFor(async () => {
      const ids = await submitMany(1, 'restart-probe');
      return ids.length === 1 ? ids : null;
    }, { timeoutMs: 15_000, intervalMs: 200, message: 'submits to work again' });
    const ids = [...before, ...after, ...(await submitMany(20, 'restart-b'))];
    await expectAllFinishedAndClean(ids);
    const states = await Promise.all(ids.map(async (id) => (await getTask(server, id))!.state));
    expect(states.every((state) => state === 'COMPLETED')).toBe(true);
  });

  it('finishes a task once when bee-queue\'s job timeout fires while the handler still runs (bee-queue trap 4: timeout overlap)', async () => {
    // JOB_TIMEOUT_MS is 1000: bee-queue gives up on the job, but the handler keeps its lease.
    const task = await submitTask(system.server, `${SAMPLE_TEXT} SLOW-1600 timeout overlap.`);
    await expectAllFinishedAndClean([task.id]);
    const done = (await getTask(system.server, task.id))!;
    expect(done.state).toBe('COMPLETED');
    expect(done.history.filter((h) => h.state === 'ACTIVE')).toHaveLength(1);
    expect(done.errors).toEqual([]);
  });
});
