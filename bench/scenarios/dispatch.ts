/**
 * dispatch: what the fair dispatcher costs (docs/dispatch.md).
 *
 * - Its own time per decision: Redis µs per `taskDispatch` call (the pick and the claim, one
 *   script) with 10 and with 10,000 tenants waiting, read from INFO commandstats while nothing
 *   else runs.
 * - Against an earlier commit (`--against <git ref>`, e.g. the commit before the dispatcher):
 *   that commit's API server and worker are run from a temporary git worktree on the same Redis,
 *   alternating runs with this checkout's: end-to-end tasks/s with 50 closed-loop clients, and
 *   Redis commands per task, scripts' inner commands included (INFO commandstats).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { startService } from '../../chaos/services.ts';
import { compared, type Row } from '../lib/report.ts';
import { startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';
import { endToEnd, ourPipeline } from './http.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface CommandTotals {
  calls: number;
  evalshaCalls: number;
  evalshaUsec: number;
  byName: Map<string, number>;
}

/** Calls of every command so far, scripts' inner commands included (INFO commandstats). */
async function commandTotals(redis: BenchSystem['redis']['client']): Promise<CommandTotals> {
  const info = await redis.info('commandstats');
  const totals: CommandTotals = { calls: 0, evalshaCalls: 0, evalshaUsec: 0, byName: new Map() };
  for (const [, name, count, usec] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    totals.calls += Number(count);
    totals.byName.set(name!, Number(count));
    if (name === 'evalsha') [totals.evalshaCalls, totals.evalshaUsec] = [Number(count), Number(usec)];
  }
  return totals;
}

/** Calls per task by command between two readings, largest first. */
function perCommand(before: CommandTotals, after: CommandTotals, tasks: number): string {
  return [...after.byName]
    .map(([name, calls]) => [name, (calls - (before.byName.get(name) ?? 0)) / tasks] as const)
    .filter(([, perTask]) => perTask >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perTask]) => `${name} ${perTask.toFixed(2)}`)
    .join(', ');
}

/** Redis µs per dispatch decision with `tenants` tenants waiting (at least two tasks each, and more than the decisions). */
async function decisionTime(system: BenchSystem, tenants: number, decisions: number): Promise<number> {
  const perTenant = Math.max(2, Math.ceil(decisions / tenants) + 1);
  const redis = system.redis.client;
  const keys = createRedisKeys(`bench-dispatch-${tenants}-${Date.now()}`);
  const repository = createTaskRepository({ redis, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 3600 });
  const store = createTaskStore({ redis, keys, workerId: 'bench', leaseMs: 600_000, maxEventsPerTask: 100 });
  for (let i = 0; i < tenants; i += 1) {
    for (let t = 0; t < perTenant; t += 1) {
      const id = randomUUID();
      await repository.create({ id, tenant: `tenant-${i}`, type: 'SUMMARIZE', content: 'Bench task.', maxRetries: 3, idempotencyKey: null, cost: 100 + (i % 7) * 10, job: encodeBeeQueueJob({ taskId: id, queued: true }) });
    }
  }
  const before = await commandTotals(redis);
  for (let i = 0; i < decisions; i += 1) {
    const { outcome } = await store.dispatch({ taskId: '', tenant: '', lane: '' }, randomUUID(), 0.3);
    if (outcome.status !== 'claimed') throw new Error(`dispatch found nothing (${outcome.status})`);
  }
  const after = await commandTotals(redis);
  return (after.evalshaUsec - before.evalshaUsec) / (after.evalshaCalls - before.evalshaCalls);
}

/** A worktree of `ref` beside this checkout, sharing its node_modules; removed by `dispose`. */
export function checkout(ref: string): { root: string; dispose(): void } {
  const root = mkdtempSync(join(tmpdir(), 'atf-bench-against-'));
  rmSync(root, { recursive: true });
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', root, ref], { stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return {
    root,
    dispose: () => execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', root], { stdio: 'ignore' }),
  };
}

interface Arm {
  perSecond: number;
  commandsPerTask: number;
  byCommand: string;
  /** CPU µs per task by process (API server, workers summed, Redis). */
  cpu: { api: number; workers: number; redis: number };
}

/** 50 closed-loop clients on an API server and 2 workers started from `root` (this checkout when undefined). */
async function arm(system: BenchSystem, root: string | undefined, seconds: number): Promise<Arm> {
  const env = { REDIS_URL: system.redis.url, PORT: '0', NODE_ENV: 'production', SERVE_CLIENT: 'false', LOG_LEVEL: 'info', SUBMIT_RATE_LIMIT: 'off' };
  const server = await startService('server', `bench-server-${root ? 'against' : 'ours'}`, env, 30_000, root ? { root } : {});
  const url = JSON.parse(server.lines.find((line) => line.includes('listening'))!) as { url?: string; port?: number };
  const api: Running = { service: server, url: url.url ?? `http://127.0.0.1:${url.port}`, wsUrl: '', stop: async () => undefined };
  api.wsUrl = `${api.url.replace(/^http/, 'ws')}/graphql`;
  const workers = root
    ? await Promise.all([0, 1].map((i) => startService('worker', `bench-worker-against-${i}`, { REDIS_URL: system.redis.url, PROVIDER: 'noop', WORKER_ID: `against-${i}-${Date.now() % 1e5}`, WORKER_CONCURRENCY: '100', LOG_LEVEL: 'info' }, 30_000, { root })))
    : await startWorkers(system, 2, { WORKER_CONCURRENCY: '100' });
  try {
    const allTasks = createRedisKeys().tasksAll();
    const [before, createdBefore] = [await commandTotals(system.redis.client), await system.redis.client.zcard(allTasks)];
    const result = await endToEnd(system, ourPipeline(api, workers.map((w) => w.pid)), 50, seconds);
    const [after, createdAfter] = [await commandTotals(system.redis.client), await system.redis.client.zcard(allTasks)];
    // Every command of the run (its warm-up and drain too; heartbeats and the bench's own few
    // included) over every task it created: each of those ran to its end before this reading.
    const tasks = Math.max(1, createdAfter - createdBefore);
    return {
      perSecond: result.perSecond,
      commandsPerTask: (after.calls - before.calls) / tasks,
      byCommand: perCommand(before, after, tasks),
      cpu: { api: result.cpu.api!, workers: result.cpu.workers!, redis: result.cpu.redis! },
    };
  } finally {
    await stopAll([...workers, server]);
  }
}

export async function benchDispatch(system: BenchSystem, flush: () => Promise<void>, against: string | undefined): Promise<Row[]> {
  const rows: Row[] = [];
  const decisions = system.quick ? 100 : 1000;
  for (const tenants of system.quick ? [10, 1000] : [10, 10_000]) {
    const runs: number[] = [];
    for (let rep = 0; rep < system.reps; rep += 1) {
      runs.push(await decisionTime(system, tenants, decisions));
      await flush();
    }
    system.log(`dispatch decision with ${tenants} tenants waiting: ${runs.map((us) => us.toFixed(1)).join(', ')} µs (Redis, per taskDispatch call)`);
    rows.push({ scenario: 'dispatch', measure: `Redis µs per dispatch decision (pick and claim), ${tenants} tenants waiting`, unit: 'µs', runs });
  }
  if (!against) {
    system.log('dispatch: no --against ref given, so no comparison with an earlier commit');
    return rows;
  }
  const seconds = system.quick ? 2 : 5;
  const base = checkout(against);
  try {
    const ours: Arm[] = [];
    const theirs: Arm[] = [];
    for (let rep = 0; rep < system.reps; rep += 1) {
      const order = [async () => void ours.push(await arm(system, undefined, seconds)), async () => void theirs.push(await arm(system, base.root, seconds))];
      for (const run of rep % 2 === 0 ? order : [...order].reverse()) {
        await run();
        await flush();
      }
      system.log(`dispatch vs ${against} rep ${rep + 1}: ${ours.at(-1)!.perSecond.toFixed(0)} vs ${theirs.at(-1)!.perSecond.toFixed(0)} tasks/s, ${ours.at(-1)!.commandsPerTask.toFixed(1)} vs ${theirs.at(-1)!.commandsPerTask.toFixed(1)} commands per task`);
      system.log(`dispatch vs ${against} rep ${rep + 1} commands per task: ours ${ours.at(-1)!.byCommand}; ${against} ${theirs.at(-1)!.byCommand}`);
      const cpu = (arm: Arm) => `API ${arm.cpu.api.toFixed(0)}, workers ${arm.cpu.workers.toFixed(0)}, Redis ${arm.cpu.redis.toFixed(0)}`;
      system.log(`dispatch vs ${against} rep ${rep + 1} CPU µs per task: ours ${cpu(ours.at(-1)!)}; ${against} ${cpu(theirs.at(-1)!)}`);
    }
    rows.push(
      compared('dispatch', `end-to-end tasks/s vs ${against}, 50 clients`, '/s', ours.map((r) => r.perSecond), against, theirs.map((r) => r.perSecond), { on: 'ratio', op: '>=', value: 0.9 }),
      compared('dispatch', `Redis CPU per task vs ${against}`, 'µs', ours.map((r) => r.cpu.redis), against, theirs.map((r) => r.cpu.redis)),
      compared('dispatch', `worker CPU per task vs ${against}`, 'µs', ours.map((r) => r.cpu.workers), against, theirs.map((r) => r.cpu.workers)),
      compared('dispatch', `API server CPU per task vs ${against}`, 'µs', ours.map((r) => r.cpu.api), against, theirs.map((r) => r.cpu.api)),
      // Target (issue 21): at most 6 more than the earlier commit.
      compared('dispatch', `Redis commands per task vs ${against} (scripts' commands included)`, '', ours.map((r) => r.commandsPerTask), against, theirs.map((r) => r.commandsPerTask)),
    );
  } finally {
    base.dispose();
  }
  return rows;
}
