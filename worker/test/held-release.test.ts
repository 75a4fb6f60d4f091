/**
 * Held tasks against a real Redis: a deferral for a hold that can end early is indexed, a
 * release makes the task due now with its job waiting, exactly once however many workers
 * release, and never a task that moved on; a rate-limit hold is released only when lifted.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Hold } from '../../schema/src/holds.ts';
import { jobIds } from '../../schema/src/job-ids.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { TransitionReason } from '../../schema/src/transition-reasons.ts';
import type { DeferReason } from '../../schema/src/dispatch.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { SAMPLE_TEXT } from '../../test/support/system.ts';
import { createHeldRelease } from '../held-release.ts';
import { createProviderRateLimiter } from '../rate-limiter.ts';

const system = useSystem({ server: false });
const beeQueueLua = (createRequire(import.meta.url)('bee-queue/lib/lua') as { scripts: Record<string, string> }).scripts;
const TENANT = 'default';

/** A task claimed by a fresh store and deferred for `reason` by `delayMs`, with its delayed job queued as the runner does. */
async function deferred(reason: DeferReason, delayMs = 60_000, queueDelayedJob = true) {
  const id = randomUUID();
  await system.repository().create({ id, tenant: TENANT, type: 'SUMMARIZE', content: SAMPLE_TEXT, maxRetries: 3, idempotencyKey: null });
  const store = system.taskStore('w');
  const claimed = await store.claim(id, 'lease', TENANT);
  if (claimed.status !== 'claimed') throw new Error(`not claimed: ${claimed.status}`);
  const outcome = await store.defer({ taskId: id, tenant: TENANT, token: 'lease' }, delayMs, reason);
  if (outcome.status !== 'ok') throw new Error('not deferred');
  const due = outcome.nextAttemptAt!;
  const jobId = jobIds.retry(id, claimed.attempt);
  if (queueDelayedJob) {
    const { client } = system.redis;
    await client.hset(system.keys.beeQueueKey(QueueName.RETRY, 'jobs'), jobId, JSON.stringify({ data: { taskId: id }, options: {}, status: 'created' }));
    await client.zadd(system.keys.beeQueueKey(QueueName.RETRY, 'delayed'), due, jobId);
  }
  return { id, due, attempt: claimed.attempt, jobId };
}

const releaser = (rateLimiter = null as ReturnType<typeof createProviderRateLimiter> | null) =>
  createHeldRelease({ redis: system.redis.client, keys: system.keys, store: system.taskStore('w'), logger: testLogger('held-release'), rateLimiter, checkMs: 50 });

const waiting = () => system.redis.client.lrange(system.keys.beeQueueKey(QueueName.RETRY, 'waiting'), 0, -1);
const record = async (id: string) => (await system.repository().get(id))!;

describe('held tasks', () => {
  it('indexes a deferral for a breaker or the rate limit under its hold, and not one for a budget', async () => {
    const circuit = await deferred(TransitionReason.CIRCUIT_OPEN);
    const limited = await deferred(TransitionReason.RATE_LIMITED);
    const budget = await deferred(TransitionReason.BUDGET);
    const { client } = system.redis;
    expect(Number(await client.zscore(system.keys.tasksHeld(Hold.CIRCUIT), circuit.id))).toBe(circuit.due);
    expect(Number(await client.zscore(system.keys.tasksHeld(Hold.RATE_LIMIT), limited.id))).toBe(limited.due);
    for (const hold of Object.values(Hold)) expect(await client.zscore(system.keys.tasksHeld(hold), budget.id)).toBeNull();
    await client.del(system.keys.tasksHeld(Hold.CIRCUIT), system.keys.tasksHeld(Hold.RATE_LIMIT));
  });

  it('releases every task the breaker held once, however many workers release, raising its delayed job', async () => {
    const held = [await deferred(TransitionReason.CIRCUIT_OPEN), await deferred(TransitionReason.CIRCUIT_OPEN)];
    const releases = await Promise.all([releaser().releaseCircuitHolds(), releaser().releaseCircuitHolds(), releaser().releaseCircuitHolds()]);
    expect(releases.reduce((sum, n) => sum + n, 0)).toBe(2);
    const queued = await waiting();
    for (const task of held) {
      const after = await record(task.id);
      expect(after.state).toBe('SCHEDULED');
      expect(after.nextAttemptAt!).toBeLessThan(task.due - 50_000);
      // The delayed job itself went to waiting: no stray left behind to look at the task later.
      expect(queued).toContain(task.jobId);
      expect(await system.redis.client.zscore(system.keys.beeQueueKey(QueueName.RETRY, 'delayed'), task.jobId)).toBeNull();
      const events = await system.redis.client.xrange(system.keys.taskEvents(task.id), '-', '+');
      expect(events.filter(([, fields]) => fields.includes(TransitionReason.RELEASED_BY_CIRCUIT_RESET))).toHaveLength(1);
    }
  });

  it('queues the delayed job itself when the deferring worker has not saved it yet, so its late save adds nothing', async () => {
    const task = await deferred(TransitionReason.CIRCUIT_OPEN, 60_000, false);
    expect(await releaser().releaseCircuitHolds()).toBe(1);
    expect(await waiting()).toContain(task.jobId);
    // bee-queue's own save of a delayed job, as the deferring worker makes it after the release.
    const { client } = system.redis;
    const bq = (suffix: string) => `${system.keys.beeQueuePrefix()}:${QueueName.RETRY}:${suffix}`;
    expect(await client.eval(beeQueueLua.addDelayedJob!, 4, bq('id'), bq('jobs'), bq('delayed'), bq('earlierDelayed'), task.jobId, '{}', task.due)).toBeNull();
    expect(await client.zscore(bq('delayed'), task.jobId)).toBeNull();
  });

  it('queues a job of its own for a released task whose delayed job is already on its way', async () => {
    const task = await deferred(TransitionReason.CIRCUIT_OPEN);
    await system.redis.client.zrem(system.keys.beeQueueKey(QueueName.RETRY, 'delayed'), task.jobId);
    expect(await releaser().releaseCircuitHolds()).toBe(1);
    expect(await waiting()).toContain(jobIds.released(task.id, task.attempt));
  });

  it('leaves alone a task that moved on since its deferral: claimed again, or deleted', async () => {
    const claimedAgain = await deferred(TransitionReason.CIRCUIT_OPEN, 10);
    const deleted = await deferred(TransitionReason.CIRCUIT_OPEN);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const store = system.taskStore('other');
    expect((await store.claim(claimedAgain.id, 'second', TENANT)).status).toBe('claimed');
    await system.repository().remove(deleted.id, 'op');
    const release = releaser();
    const outcome = await system.taskStore('w').releaseHold({ taskId: claimedAgain.id, tenant: TENANT, attempt: claimedAgain.attempt, due: claimedAgain.due }, TransitionReason.RELEASED_BY_CIRCUIT_RESET);
    expect(outcome).toEqual({ status: 'unheld', state: 'ACTIVE' });
    expect(await release.releaseCircuitHolds()).toBe(0);
    expect((await record(claimedAgain.id)).state).toBe('ACTIVE');
  });

  it('releases at once a deferral written while a reset was landing', async () => {
    const task = await deferred(TransitionReason.CIRCUIT_OPEN);
    await releaser().onDeferred({ taskId: task.id, tenant: TENANT, attempt: task.attempt, due: task.due }, Hold.CIRCUIT, false);
    expect((await record(task.id)).nextAttemptAt!).toBeLessThan(task.due - 50_000);
  });

  it('releases tasks held by a rate-limit pause once the pause is lifted, and not before', async () => {
    const { client } = system.redis;
    const limiter = createProviderRateLimiter({ redis: client, keys: system.keys, logger: testLogger('limiter'), defaultLimit: { capacity: 5, windowMs: 1000 }, maxWaitMs: 1000, refreshMs: 5000 });
    const [seconds, micros] = await client.time();
    await client.set(system.keys.providerPausedUntil(), String(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 60_000));
    const held = await deferred(TransitionReason.RATE_LIMITED, 60_010);
    // While the pause holds, the deferral ends when it does: nothing is lifted.
    expect(await limiter.takeLiftedHolds(0)).toEqual([]);
    const release = releaser(limiter);
    await release.onDeferred({ taskId: held.id, tenant: TENANT, attempt: held.attempt, due: held.due }, Hold.RATE_LIMIT, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await record(held.id)).nextAttemptAt).toBe(held.due);
    await client.del(system.keys.providerPausedUntil());
    await expect.poll(async () => (await record(held.id)).nextAttemptAt! < held.due - 50_000, { timeout: 5000 }).toBe(true);
    release.dispose();
  });
});
