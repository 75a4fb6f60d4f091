/**
 * Redis µs per call of the scripts on a task's path, each measured alone on a private Redis
 * (INFO commandstats, EVALSHA usec): the create, the dispatcher's pick and claim
 * (`taskDispatch`) against the direct claim that does no pick (`taskClaim`), and the
 * completion. What the dispatcher adds inside Redis, with nothing else running.
 *
 *   node --import tsx bench/lib/dispatch-micro.ts [tasks] [tenants]
 */
import { randomUUID } from 'node:crypto';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { commandTotals } from './commandstats.ts';
import { redisCpuMicros } from './measure.ts';

/** Per call: Redis' time inside the script (EVALSHA usec, wall) and redis-server's CPU (getrusage), µs. */
export interface PerCall {
  usec: number;
  cpu: number;
}

export interface MicroResult {
  create: PerCall;
  dispatch: PerCall;
  claim: PerCall;
  complete: PerCall;
}

export async function measureScripts(tasks = 2000, tenants = 10): Promise<MicroResult> {
  const redis = await startRedis({ appendOnly: false });
  try {
    const keys = createRedisKeys();
    const repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 3600 });
    const store = createTaskStore({ redis: redis.client, keys, workerId: 'micro', leaseMs: 600_000, maxEventsPerTask: 100 });
    const phase = async (work: () => Promise<unknown>): Promise<PerCall> => {
      const [before, cpuBefore] = [await commandTotals(redis.client), await redisCpuMicros(redis.client)];
      await work();
      const [after, cpuAfter] = [await commandTotals(redis.client), await redisCpuMicros(redis.client)];
      const calls = after.evalshaCalls - before.evalshaCalls;
      return { usec: (after.evalshaUsec - before.evalshaUsec) / calls, cpu: (cpuAfter - cpuBefore) / calls };
    };
    const ids: string[] = [];
    const create = async () => {
      for (let i = 0; i < tasks; i += 1) {
        const id = randomUUID();
        ids.push(id);
        await repository.create({ id, tenant: `tenant-${i % tenants}`, type: 'SUMMARIZE', content: 'Bench task.', maxRetries: 3, idempotencyKey: null, cost: 100, job: encodeBeeQueueJob({ taskId: id, queued: true }) });
      }
    };
    const leases: { taskId: string; tenant: string; token: string }[] = [];
    const create_ = await phase(create);
    // Half dispatched (the pick and the claim), half claimed directly by id (the claim alone).
    // A commit before the dispatcher has no dispatch: it claims them all directly.
    const canDispatch = typeof (store as { dispatch?: unknown }).dispatch === 'function';
    const dispatch = await phase(async () => {
      for (let i = 0; i < (canDispatch ? tasks / 2 : 0); i += 1) {
        const token = randomUUID();
        const { outcome } = await store.dispatch({ taskId: '', tenant: '', lane: '' }, token, 0.3);
        if (outcome.status !== 'claimed') throw new Error(`dispatch: ${outcome.status}`);
        leases.push({ taskId: outcome.taskId, tenant: outcome.tenant, token });
      }
    });
    const claimed = new Set(leases.map((lease) => lease.taskId));
    const rest = ids.filter((id) => !claimed.has(id));
    const claim = await phase(async () => {
      for (const id of rest) {
        const token = randomUUID();
        const outcome = await store.claim(id, token);
        if (outcome.status !== 'claimed') throw new Error(`claim: ${outcome.status}`);
        leases.push({ taskId: id, tenant: outcome.tenant, token });
      }
    });
    const complete = await phase(async () => {
      for (const lease of leases) await store.complete(lease, 'done', null);
    });
    return { create: create_, dispatch, claim, complete };
  } finally {
    await redis.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [tasks, tenants] = process.argv.slice(2).map(Number);
  const runs: MicroResult[] = [];
  for (let i = 0; i < 5; i += 1) runs.push(await measureScripts(tasks || 2000, tenants || 10));
  for (const name of ['create', 'dispatch', 'claim', 'complete'] as const) {
    const usec = runs.map((r) => r[name].usec).sort((a, b) => a - b);
    const cpu = runs.map((r) => r[name].cpu).sort((a, b) => a - b);
    console.log(`${name}: script ${usec.map((v) => v.toFixed(0)).join(' ')} µs; Redis CPU ${cpu.map((v) => v.toFixed(0)).join(' ')} µs a call`);
  }
  const ratio = runs.map((r) => r.dispatch.cpu / r.claim.cpu).sort((a, b) => a - b);
  console.log(`dispatch / claim, Redis CPU: ${ratio.map((v) => v.toFixed(2)).join(' ')}`);
}
