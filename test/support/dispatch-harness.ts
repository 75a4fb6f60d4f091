/**
 * The dispatcher's scripts driven by hand on a real Redis (docs/dispatch.md): submit tasks for
 * tenants, then let "slots" ask for the next task one at a time, so a test sees the exact order
 * the dispatcher starts tasks in. Each harness has a key prefix of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { createRedisKeys, type RedisKeys } from '../../schema/src/redis-keys.ts';
import type { TaskPriority } from '../../schema/src/dispatch.ts';
import type { RateLimit } from '../../schema/src/rate-limit.ts';
import type { DispatchOutcome } from '../../schema/src/scripts/dispatch.ts';
import { createDispatchStore } from '../../server/infra/dispatch-store.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore, type Lease } from '../../worker/task-store.ts';
import { randomPrefix } from './fixtures.ts';

export interface HarnessOptions {
  leaseMs?: number;
  priorityOffsetMs?: number;
  retryRatio?: number;
  tokenLimit?: RateLimit | null;
  /** Tenants one dispatch may pass over (the worker's default is 32). */
  maxPicks?: number;
  prefix?: string;
}

export interface Started {
  taskId: string;
  tenant: string;
  lease: Lease;
  attempt: number;
  capped: boolean;
}

export type DispatchHarness = ReturnType<typeof createDispatchHarness>;

export function createDispatchHarness(redis: Redis, options: HarnessOptions = {}) {
  const keys: RedisKeys = createRedisKeys(options.prefix ?? randomPrefix('dispatch'));
  const priorityOffsetMs = options.priorityOffsetMs ?? 300_000;
  const repository = createTaskRepository({ redis, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60, priorityOffsetMs });
  const store = (workerId = 'w') =>
    createTaskStore({
      redis,
      keys,
      workerId,
      leaseMs: options.leaseMs ?? 60_000,
      maxEventsPerTask: 100,
      dispatch: { priorityOffsetMs, tokenLimit: options.tokenLimit ?? null, wakeJob: encodeBeeQueueJob({ taskId: '' }), ...(options.maxPicks ? { maxPicks: options.maxPicks } : {}) },
    });
  const worker = store();
  const dispatch = createDispatchStore({ redis, keys, retryRatio: options.retryRatio ?? 0.3, positionMaxSteps: 100_000 });

  /** A task for `tenant`, in its new line at once (as a submit's job does). */
  async function submit(tenant: string, task: { cost?: number; priority?: TaskPriority; content?: string } = {}): Promise<string> {
    const id = randomUUID();
    const outcome = await repository.create({
      id,
      tenant,
      type: 'SUMMARIZE',
      content: task.content ?? `Task of ${tenant}.`,
      maxRetries: 3,
      idempotencyKey: null,
      priority: task.priority ?? 'NORMAL',
      cost: task.cost ?? 100,
      job: encodeBeeQueueJob({ taskId: id, tenant, queued: true }),
    });
    if (outcome.status !== 'created') throw new Error(`not created: ${outcome.status}`);
    return id;
  }

  /** One free slot's pick, with a ticket that names no task. */
  async function next(by = worker): Promise<{ started: Started | null; outcome: DispatchOutcome }> {
    const token = randomUUID();
    const { outcome } = await by.dispatch({ taskId: '', tenant: '', lane: '' }, token, options.retryRatio ?? 0.3);
    if (outcome.status !== 'claimed') return { started: null, outcome };
    return {
      started: { taskId: outcome.taskId, tenant: outcome.tenant, lease: { taskId: outcome.taskId, tenant: outcome.tenant, token }, attempt: outcome.attempt, capped: outcome.capped },
      outcome,
    };
  }

  /** Completes a started attempt and gives back its capped slot, as the runner does. */
  async function finish(started: Started, by = worker): Promise<void> {
    await by.complete(started.lease, 'done', null);
    if (started.capped) await by.releaseSlot(started.lease, started.attempt);
  }

  /** Starts and finishes tasks one at a time until nothing starts (or `limit`); the order they started in. */
  async function drain(limit = Infinity): Promise<Started[]> {
    const order: Started[] = [];
    while (order.length < limit) {
      const { started } = await next();
      if (!started) break;
      order.push(started);
      await finish(started);
    }
    return order;
  }

  return { keys, repository, store, worker, dispatch, submit, next, finish, drain };
}
