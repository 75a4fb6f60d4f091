/**
 * Two arms at once: an API server and two workers each, on a redis-server of its own (AOF on),
 * driven by the same closed loop of clients AT THE SAME TIME, after a warm-up that is not
 * measured. Whatever else loads this shared machine then loads both alike: windows taken one
 * after the other on it moved tasks/s by ±40 % from one to the next. Used by the scenarios that
 * compare two builds or two settings end to end (tracing.ts, dispatch.ts).
 *
 * Each pair of windows is closed-loop (as many tasks as each arm gets done: the tasks/s ratio)
 * and, when asked, then paced (both at one rate: the same work a second, so CPU per task differs
 * by what a task costs, not by how busy each arm was). Around every window each arm's Redis
 * commands are read from INFO commandstats (scripts' inner commands included).
 *
 * Profiling: with a profile directory, every process of every arm records a V8 CPU profile of
 * the measured windows only (bench/lib/cpu-profile.mjs), with a manifest for
 * bench/lib/profile-summary.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type Service } from '../../chaos/services.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { endToEnd, ourPipeline, type EndToEndResult, type WindowHooks } from './end-to-end.ts';
import { commandTotals, commandWindow, type CommandWindow } from './commandstats.ts';
import { compared, type Row, type Target } from './report.ts';
import { startApiServer, startWorkers, stopAll, type BenchSystem, type Running } from './system.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLIENTS = 50;

export interface Arm {
  label: string;
  /** Its own Redis: its CPU and its commands are this arm's alone. */
  system: BenchSystem;
  api: Running;
  workers: Service[];
  /** Closed-loop windows: as many tasks as the arm gets done. */
  results: EndToEndResult[];
  /** Redis commands of each closed-loop window (its ramp and drain included), per task it created. */
  commands: CommandWindow[];
  /** Windows at the paced rate. */
  paced: EndToEndResult[];
}

export interface Plan {
  /** Names the run in the log lines and the profile directory. */
  part: string;
  /** Closed-loop load on both arms before any window counts (not measured). */
  warmupSeconds: number;
  seconds: number;
  reps: number;
  /** Both arms at this many tasks a second after each closed-loop pair; null for none. */
  pacedPerSecond: number | null;
  profileDir: string | null;
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

/** Where a part's profiles go under `root` (unset: no profiling), and the env that makes a process record them. */
export function profiling(root: string | undefined, part: string): { dir: string; env: Record<string, string> } | null {
  if (!root) return null;
  const dir = join(root, part);
  mkdirSync(dir, { recursive: true });
  const preload = new URL('./cpu-profile.mjs', import.meta.url).pathname;
  return { dir, env: { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROFILE_DIR: dir, BENCH_CPU_PROFILE_ON_SIGNAL: '1' } };
}

/** A redis-server of its own for one arm, as the bench's (AOF on). */
async function armSystem(system: BenchSystem): Promise<BenchSystem> {
  return { ...system, redis: await startRedis({ appendOnly: true }) };
}

const newArm = (label: string, system: BenchSystem, api: Running, workers: Service[]): Arm => ({ label, system, api, workers, results: [], commands: [], paced: [] });

/** An API server and two workers of this checkout on a Redis of their own, with `env` on all three. */
export async function startArm(system: BenchSystem, label: string, env: Record<string, string>, workerEnv: Record<string, string> = {}): Promise<Arm> {
  const own = await armSystem(system);
  const [api, workers] = await Promise.all([startApiServer(own, env), startWorkers(own, 2, { WORKER_CONCURRENCY: '100', ...env, ...workerEnv })]);
  return newArm(label, own, api, workers);
}

/** The same trio started from another checkout (`root`, see `checkout`). */
export async function startArmAt(system: BenchSystem, label: string, root: string, env: Record<string, string>): Promise<Arm> {
  const own = await armSystem(system);
  const shared = { REDIS_URL: own.redis.url, LOG_LEVEL: 'info', ...env };
  const [server, ...workers] = await Promise.all([
    startService('server', 'bench-server-against', { ...shared, PORT: '0', NODE_ENV: 'production', SERVE_CLIENT: 'false', SUBMIT_RATE_LIMIT: 'off' }, 30_000, { root }),
    ...[0, 1].map((i) => startService('worker', `bench-worker-against-${i}`, { ...shared, PROVIDER: 'noop', WORKER_ID: `against-${i}-${Date.now() % 1e5}`, WORKER_CONCURRENCY: '100' }, 30_000, { root })),
  ]);
  const url = (JSON.parse(server!.lines.find((line) => line.includes('listening'))!) as { url: string }).url;
  const api: Running = { service: server!, url, wsUrl: `${url.replace(/^http/, 'ws')}/graphql`, stop: async () => void (await stopAll([server!])) };
  return newArm(label, own, api, workers);
}

export async function stopArm(arm: Arm): Promise<void> {
  await Promise.all([stopAll(arm.workers), arm.api.stop()]);
  await arm.system.redis.dispose();
}

/** Starts both arms; if one fails, stops the other. */
export async function startBoth(starts: [Promise<Arm>, Promise<Arm>]): Promise<[Arm, Arm]> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result) => result.status === 'rejected');
  if (!failure) return settled.map((result) => (result as PromiseFulfilledResult<Arm>).value) as [Arm, Arm];
  await Promise.all(settled.flatMap((result) => (result.status === 'fulfilled' ? [stopArm(result.value)] : [])));
  throw failure.reason;
}

const pidsOf = (arm: Arm): Record<string, number> => ({ api: arm.api.service.pid, ...Object.fromEntries(arm.workers.map((w, i) => [`worker${i}`, w.pid])) });

/** SIGUSR2 to each process of `arm`: its profiler starts, or stops and writes (bench/lib/cpu-profile.mjs). */
function profileHooks(arm: Arm): WindowHooks {
  const toggle = () => Object.values(pidsOf(arm)).forEach((pid) => process.kill(pid, 'SIGUSR2'));
  return { opened: toggle, closed: toggle };
}

export const describeWindow = (r: EndToEndResult) => `${r.perSecond.toFixed(0)} tasks/s (API ${r.cpu.api!.toFixed(0)}, workers ${r.cpu.workers!.toFixed(0)}, Redis ${r.cpu.redis!.toFixed(0)} µs a task)`;

const describeCommands = (c: CommandWindow) => `${c.commandsPerTask.toFixed(1)} commands, EVALSHA ${c.evalshaUsecPerTask.toFixed(0)} µs a task`;

/** One window of `arm`, with its Redis commands counted over it (ramp and drain included) when `count`. */
async function window(arm: Arm, plan: Plan, perSecond: number | undefined, count: boolean): Promise<[EndToEndResult, CommandWindow | null]> {
  const redis = arm.system.redis.client;
  const allTasks = createRedisKeys().tasksAll();
  const before = count ? await commandTotals(redis) : null;
  const createdBefore = count ? await redis.zcard(allTasks) : 0;
  const result = await endToEnd(arm.system, ourPipeline(arm.api, arm.workers.map((w) => w.pid)), CLIENTS, plan.seconds, { hooks: plan.profileDir ? profileHooks(arm) : undefined, perSecond });
  if (!before) return [result, null];
  const after = await commandTotals(redis);
  // Every task the window created ran to its end before the reading (the clients wait for it).
  return [result, commandWindow(before, after, (await redis.zcard(allTasks)) - createdBefore)];
}

/** `plan.reps` windows with both arms at once; logs each. */
export async function together(system: BenchSystem, scenario: string, arms: [Arm, Arm], plan: Plan): Promise<void> {
  const flush = () => Promise.all(arms.map((arm) => arm.system.redis.client.flushall()));
  // Fresh processes spend their first tens of seconds compiling (a quarter of their CPU in V8's
  // optimizing compiler at first, 2-3 % after 30 s of load, perf-sampled), and a traced one
  // has the SDK to compile too: a long-running process pays that once, so it is left out.
  if (plan.warmupSeconds > 0) {
    await Promise.all(arms.map((arm) => endToEnd(arm.system, ourPipeline(arm.api, arm.workers.map((w) => w.pid)), CLIENTS, plan.warmupSeconds)));
    await flush();
  }
  for (let rep = 0; rep < plan.reps; rep += 1) {
    const closed = await Promise.all(arms.map((arm) => window(arm, plan, undefined, true)));
    arms.forEach((arm, i) => {
      arm.results.push(closed[i]![0]);
      arm.commands.push(closed[i]![1]!);
    });
    system.log(`${scenario} ${plan.part} rep ${rep + 1}: ${arms.map((arm) => `${arm.label} ${describeWindow(arm.results.at(-1)!)}, ${describeCommands(arm.commands.at(-1)!)}`).join(' vs ')}`);
    await flush();
    if (plan.pacedPerSecond === null) continue;
    const paced = await Promise.all(arms.map((arm) => window(arm, plan, plan.pacedPerSecond!, false)));
    arms.forEach((arm, i) => arm.paced.push(paced[i]![0]));
    system.log(`${scenario} ${plan.part} rep ${rep + 1} at ${plan.pacedPerSecond}/s: ${arms.map((arm) => `${arm.label} ${describeWindow(arm.paced.at(-1)!)}`).join(' vs ')}`);
    await flush();
  }
  if (plan.profileDir) {
    const tasks = (arm: Arm) => [...arm.results, ...arm.paced].reduce((sum, r) => sum + r.tasks, 0);
    const manifest = { arms: Object.fromEntries(arms.map((arm) => [arm.label, { tasks: tasks(arm), pids: pidsOf(arm) }])) };
    writeFileSync(join(plan.profileDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
}

/** Starts both arms, runs `plan` on them, stops them, and returns `rows` of them. */
export async function runBoth(system: BenchSystem, scenario: string, plan: Plan, starts: [Promise<Arm>, Promise<Arm>], rows: (arms: [Arm, Arm]) => Row[]): Promise<Row[]> {
  const arms = await startBoth(starts);
  try {
    await together(system, scenario, arms, plan);
    return rows(arms);
  } finally {
    await Promise.all(arms.map(stopArm));
  }
}

/** Targets on the closed-loop rows: tasks/s, and CPU per task (API, workers and Redis together). */
export interface Targets {
  tasks?: Target;
  cpu?: Target;
}

/** Tasks/s, p99 and CPU per task by process of `ours` against `base`, paired window by window (and at the paced rate, when run). */
export function armRows(scenario: string, what: string, ours: Arm, base: Arm, pacedPerSecond: number | null, targets: Targets = {}): Row[] {
  const row = (measure: string, unit: string, runs: (arm: Arm) => EndToEndResult[], pick: (r: EndToEndResult) => number, rowTarget?: Target) =>
    compared(scenario, `${measure}, ${what}`, unit, runs(ours).map(pick), base.label, runs(base).map(pick), rowTarget);
  const closed = (arm: Arm) => arm.results;
  const paced = (arm: Arm) => arm.paced;
  const total = (r: EndToEndResult) => r.cpu.api! + r.cpu.workers! + r.cpu.redis!;
  const rows = [
    row(`tasks/s, ${CLIENTS} clients`, '/s', closed, (r) => r.perSecond, targets.tasks),
    row(`p99 latency, ${CLIENTS} clients`, 'ms', closed, (r) => r.p99),
    row(`API + workers + Redis CPU per task, ${CLIENTS} clients`, 'µs', closed, total, targets.cpu),
    row('API server CPU per task', 'µs', closed, (r) => r.cpu.api!),
    row('worker CPU per task', 'µs', closed, (r) => r.cpu.workers!),
    row('Redis CPU per task', 'µs', closed, (r) => r.cpu.redis!),
  ];
  if (ours.paced.length === 0 || pacedPerSecond === null) return rows;
  const at = `at ${pacedPerSecond} tasks/s`;
  return [
    ...rows,
    row(`tasks/s reached ${at}`, '/s', paced, (r) => r.perSecond),
    row(`API server CPU per task ${at}`, 'µs', paced, (r) => r.cpu.api!),
    row(`worker CPU per task ${at}`, 'µs', paced, (r) => r.cpu.workers!),
    row(`Redis CPU per task ${at}`, 'µs', paced, (r) => r.cpu.redis!),
    row(`API + workers + Redis CPU per task ${at}`, 'µs', paced, total),
  ];
}
