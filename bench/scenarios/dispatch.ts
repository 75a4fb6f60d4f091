/**
 * dispatch: what the fair dispatcher costs (docs/dispatch.md).
 *
 * - Its own time per decision: Redis µs per `taskDispatch` call (the pick and the claim, one
 *   script) with 10 and with 10,000 tenants waiting, read from INFO commandstats while nothing
 *   else runs.
 * - Against an earlier commit (`--against <git ref>`, e.g. the commit before the dispatcher):
 *   that commit's API server and two workers, run from a temporary git worktree, and this
 *   checkout's, each trio on a redis-server of its own, AT THE SAME TIME after 30 s of load that
 *   is not measured (bench/lib/arms.ts): end-to-end tasks/s with 50 closed-loop clients (the
 *   target: at least 0.9x), Redis commands and EVALSHA µs per task (INFO commandstats, scripts'
 *   inner commands included; the target: at most 6 more commands), and CPU per task by process,
 *   closed-loop and paced at BENCH_DISPATCH_RATE (150) tasks/s each.
 *
 * BENCH_DISPATCH_PARTS=decisions,against (the default) picks parts.
 * BENCH_DISPATCH_PROFILE_DIR=<dir>: every process of both arms records a V8 CPU profile of the
 * measured windows only, to <dir>/against/, for bench/lib/profile-summary.ts.
 */
import { randomUUID } from 'node:crypto';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { armRows, checkout, profiling, runBoth, startArm, startArmAt, type Arm } from '../lib/arms.ts';
import { commandTotals } from '../lib/commandstats.ts';
import { compared, type Row } from '../lib/report.ts';
import { type BenchSystem } from '../lib/system.ts';

/** The paced windows' rate, each arm: below either arm's ceiling with both running on 2 shared cores. */
const PACED_PER_SECOND = Number(process.env.BENCH_DISPATCH_RATE ?? 150);

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

/** This checkout against `ref`'s server and workers, both at once, each on its own Redis. */
async function againstPart(system: BenchSystem, ref: string): Promise<Row[]> {
  const timing = system.quick ? { warmupSeconds: 0, seconds: 1, reps: 1 } : { warmupSeconds: 30, seconds: 3, reps: Math.max(system.reps, 6) };
  const profile = profiling(process.env.BENCH_DISPATCH_PROFILE_DIR, 'against');
  const env = profile?.env ?? {};
  const base = checkout(ref);
  try {
    return await runBoth(
      system,
      'dispatch',
      { part: 'against', ...timing, pacedPerSecond: PACED_PER_SECOND, profileDir: profile?.dir ?? null },
      [startArmAt(system, ref, base.root, env), startArm(system, 'dispatcher', env)],
      ([old, now]) => {
        for (const arm of [now, old]) system.log(`dispatch ${arm.label} commands per task, by command (last window): ${arm.commands.at(-1)!.byCommand}`);
        const commands = (measure: string, unit: string, pick: (arm: Arm, i: number) => number) =>
          compared('dispatch', `${measure} vs ${ref}`, unit, now.commands.map((_, i) => pick(now, i)), ref, old.commands.map((_, i) => pick(old, i)));
        return [
          ...armRows('dispatch', `dispatcher vs ${ref}, noop provider`, now, old, PACED_PER_SECOND, { tasks: { on: 'ratio', op: '>=', value: 0.9 } }),
          // Target (issue 21): at most 6 more than the earlier commit.
          commands("Redis commands per task (scripts' commands included)", '', (arm, i) => arm.commands[i]!.commandsPerTask),
          commands('Redis EVALSHA calls per task', '', (arm, i) => arm.commands[i]!.evalshaPerTask),
          commands('Redis µs inside scripts (EVALSHA) per task', 'µs', (arm, i) => arm.commands[i]!.evalshaUsecPerTask),
        ];
      },
    );
  } finally {
    base.dispose();
  }
}

export async function benchDispatch(system: BenchSystem, flush: () => Promise<void>, against: string | undefined): Promise<Row[]> {
  const rows: Row[] = [];
  const parts = new Set((process.env.BENCH_DISPATCH_PARTS ?? 'decisions,against').split(','));
  const decisions = system.quick ? 100 : 1000;
  for (const tenants of !parts.has('decisions') ? [] : system.quick ? [10, 1000] : [10, 10_000]) {
    const runs: number[] = [];
    for (let rep = 0; rep < system.reps; rep += 1) {
      runs.push(await decisionTime(system, tenants, decisions));
      await flush();
    }
    system.log(`dispatch decision with ${tenants} tenants waiting: ${runs.map((us) => us.toFixed(1)).join(', ')} µs (Redis, per taskDispatch call)`);
    rows.push({ scenario: 'dispatch', measure: `Redis µs per dispatch decision (pick and claim), ${tenants} tenants waiting`, unit: 'µs', runs });
  }
  if (!parts.has('against')) return rows;
  if (!against) {
    system.log('dispatch: no --against ref given, so no comparison with an earlier commit');
    return rows;
  }
  rows.push(...(await againstPart(system, against)));
  return rows;
}
