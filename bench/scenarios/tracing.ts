/**
 * What tracing costs end to end (docs/observability.md, docs/performance.md#tracing): the same
 * closed loop of clients (submit, watch to the terminal event) against an API server and two
 * workers with tracing off, and against another such trio with every task traced
 * (OTEL_TRACES_SAMPLER=always_on) and exported over OTLP/HTTP protobuf to a loopback receiver.
 *
 * After 30 s of load that is not measured (JIT warm-up: see `together`), the two arms run AT
 * THE SAME TIME, each on its own redis-server (AOF on), so whatever else
 * loads this shared machine loads both alike: windows taken one after the other on it moved
 * tasks/s by ±40 % from one to the next. Each pair of windows is closed-loop (as many tasks as
 * each arm gets done: the tasks/s ratio) and then paced (both at PACED_PER_SECOND: the same
 * work a second, so CPU per task differs by what a task costs, not by how busy each arm was).
 *
 * - `alone`: the spans of one task measured in this process with nothing else in it
 *   (bench/lib/tracing-micro.ts): the floor of what tracing a task costs.
 * - `noop`: the provider that answers at once, the worst case (the target: traced tasks/s at
 *   least 95 % of untraced).
 * - `provider`: the fake OpenRouter (in this process) streaming each answer in pieces with a
 *   pause between them, as a real model does, at a fraction of a real call's length.
 * - `--against <ref>`: tracing off here against that commit's server and workers (e.g. the
 *   commit before tracing): what the code of tracing costs when it is off.
 * - `against-traced` (only when named): both traced, here against `--against <ref>`: what a
 *   change to tracing bought.
 *
 * BENCH_TRACING_PARTS=alone,noop,provider,against (the default),against-traced picks parts; BENCH_TRACING_RATE sets the pace.
 * BENCH_TRACING_PROFILE_DIR=<dir>: every process of every arm records a V8 CPU profile of the
 * measured windows only, to <dir>/<part>/, with a manifest for bench/lib/profile-summary.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type Service } from '../../chaos/services.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { startFakeOpenRouter, streamedAnswer } from '../../tools/fake-openrouter.ts';
import { compared, type Row, type Target } from '../lib/report.ts';
import { measureSpansAlone } from '../lib/tracing-micro.ts';
import { startApiServer, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';
import { checkout } from './dispatch.ts';
import { endToEnd, ourPipeline, type EndToEndResult, type WindowHooks } from './http.ts';

const CLIENTS = 50;
/** The fake provider's answer: this many pieces, this far apart (a real call streams for seconds). */
const PROVIDER_CHUNKS = 20;
const PROVIDER_CHUNK_DELAY_MS = 10;
/** The paced windows' rate, each arm: below either arm's ceiling with both running on 2 shared cores. */
const PACED_PER_SECOND = Number(process.env.BENCH_TRACING_RATE ?? 150);

interface Arm {
  label: string;
  /** Its own Redis: its CPU is this arm's alone. */
  system: BenchSystem;
  api: Running;
  workers: Service[];
  /** Closed-loop windows: as many tasks as the arm gets done. */
  results: EndToEndResult[];
  /** Windows at PACED_PER_SECOND. */
  paced: EndToEndResult[];
}

interface Plan {
  part: string;
  /** Closed-loop load on both arms before any window counts (not measured). */
  warmupSeconds: number;
  seconds: number;
  reps: number;
  /** Paced windows too (pointless where the provider's latency already sets the rate). */
  paced: boolean;
  profileDir: string | null;
}

/** Where a part's profiles go, and the env that makes a process record them; null when not profiling. */
function profiling(part: string): { dir: string; env: Record<string, string> } | null {
  const root = process.env.BENCH_TRACING_PROFILE_DIR;
  if (!root) return null;
  const dir = join(root, part);
  mkdirSync(dir, { recursive: true });
  const preload = new URL('../lib/cpu-profile.mjs', import.meta.url).pathname;
  return { dir, env: { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROFILE_DIR: dir, BENCH_CPU_PROFILE_ON_SIGNAL: '1' } };
}

/** A redis-server of its own for one arm, as the bench's (AOF on). */
async function armSystem(system: BenchSystem): Promise<BenchSystem> {
  return { ...system, redis: await startRedis({ appendOnly: true }) };
}

/** An API server and two workers of this checkout on a Redis of their own, with `env` on all three. */
async function startArm(system: BenchSystem, label: string, env: Record<string, string>, workerEnv: Record<string, string> = {}): Promise<Arm> {
  const own = await armSystem(system);
  const [api, workers] = await Promise.all([startApiServer(own, env), startWorkers(own, 2, { WORKER_CONCURRENCY: '100', ...env, ...workerEnv })]);
  return { label, system: own, api, workers, results: [], paced: [] };
}

/** The same trio started from another checkout (`root`), tracing off. */
async function startArmAt(system: BenchSystem, label: string, root: string, env: Record<string, string>): Promise<Arm> {
  const own = await armSystem(system);
  const shared = { REDIS_URL: own.redis.url, LOG_LEVEL: 'info', ...env };
  const [server, ...workers] = await Promise.all([
    startService('server', 'bench-server-against', { ...shared, PORT: '0', NODE_ENV: 'production', SERVE_CLIENT: 'false', SUBMIT_RATE_LIMIT: 'off' }, 30_000, { root }),
    ...[0, 1].map((i) => startService('worker', `bench-worker-against-${i}`, { ...shared, PROVIDER: 'noop', WORKER_ID: `against-${i}-${Date.now() % 1e5}`, WORKER_CONCURRENCY: '100' }, 30_000, { root })),
  ]);
  const url = (JSON.parse(server!.lines.find((line) => line.includes('listening'))!) as { url: string }).url;
  const api: Running = { service: server!, url, wsUrl: `${url.replace(/^http/, 'ws')}/graphql`, stop: async () => void (await stopAll([server!])) };
  return { label, system: own, api, workers, results: [], paced: [] };
}

async function stopArm(arm: Arm): Promise<void> {
  await Promise.all([stopAll(arm.workers), arm.api.stop()]);
  await arm.system.redis.dispose();
}

/** Starts both arms; if one fails, stops the other. */
async function startBoth(starts: [Promise<Arm>, Promise<Arm>]): Promise<[Arm, Arm]> {
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

const describe = (r: EndToEndResult) => `${r.perSecond.toFixed(0)} tasks/s (API ${r.cpu.api!.toFixed(0)}, workers ${r.cpu.workers!.toFixed(0)}, Redis ${r.cpu.redis!.toFixed(0)} µs a task)`;

/** `plan.reps` windows with both arms at once; logs each. */
async function together(system: BenchSystem, arms: [Arm, Arm], plan: Plan): Promise<void> {
  const window = (arm: Arm, perSecond?: number) =>
    endToEnd(arm.system, ourPipeline(arm.api, arm.workers.map((w) => w.pid)), CLIENTS, plan.seconds, { hooks: plan.profileDir ? profileHooks(arm) : undefined, perSecond });
  const flush = () => Promise.all(arms.map((arm) => arm.system.redis.client.flushall()));
  // Fresh processes spend their first tens of seconds compiling (a quarter of their CPU in V8's
  // optimizing compiler at first, 2-3 % after 30 s of load, perf-sampled), and the traced ones
  // have the SDK to compile too: a long-running process pays that once, so it is left out.
  if (plan.warmupSeconds > 0) {
    await Promise.all(arms.map((arm) => endToEnd(arm.system, ourPipeline(arm.api, arm.workers.map((w) => w.pid)), CLIENTS, plan.warmupSeconds)));
    await flush();
  }
  for (let rep = 0; rep < plan.reps; rep += 1) {
    const closed = await Promise.all(arms.map((arm) => window(arm)));
    arms.forEach((arm, i) => arm.results.push(closed[i]!));
    system.log(`tracing ${plan.part} rep ${rep + 1}: ${arms.map((arm) => `${arm.label} ${describe(arm.results.at(-1)!)}`).join(' vs ')}`);
    await flush();
    if (!plan.paced) continue;
    const paced = await Promise.all(arms.map((arm) => window(arm, PACED_PER_SECOND)));
    arms.forEach((arm, i) => arm.paced.push(paced[i]!));
    system.log(`tracing ${plan.part} rep ${rep + 1} at ${PACED_PER_SECOND}/s: ${arms.map((arm) => `${arm.label} ${describe(arm.paced.at(-1)!)}`).join(' vs ')}`);
    await flush();
  }
  if (plan.profileDir) {
    const tasks = (arm: Arm) => [...arm.results, ...arm.paced].reduce((sum, r) => sum + r.tasks, 0);
    const manifest = { arms: Object.fromEntries(arms.map((arm) => [arm.label, { tasks: tasks(arm), pids: pidsOf(arm) }])) };
    writeFileSync(join(plan.profileDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
}

/** Targets on the closed-loop rows: tasks/s, and CPU per task (API, workers and Redis together). */
interface Targets {
  tasks?: Target;
  cpu?: Target;
}

/** Tasks/s, p99 and CPU per task by process of `ours` against `base`, paired window by window (and at the paced rate, when run). */
function rowsOf(what: string, ours: Arm, base: Arm, targets: Targets = {}): Row[] {
  const row = (measure: string, unit: string, runs: (arm: Arm) => EndToEndResult[], pick: (r: EndToEndResult) => number, rowTarget?: Target) =>
    compared('tracing', `${measure}, ${what}`, unit, runs(ours).map(pick), base.label, runs(base).map(pick), rowTarget);
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
  if (ours.paced.length === 0) return rows;
  const at = `at ${PACED_PER_SECOND} tasks/s`;
  return [
    ...rows,
    row(`tasks/s reached ${at}`, '/s', paced, (r) => r.perSecond),
    row(`API server CPU per task ${at}`, 'µs', paced, (r) => r.cpu.api!),
    row(`worker CPU per task ${at}`, 'µs', paced, (r) => r.cpu.workers!),
    row(`Redis CPU per task ${at}`, 'µs', paced, (r) => r.cpu.redis!),
    row(`API + workers + Redis CPU per task ${at}`, 'µs', paced, total),
  ];
}

async function withReceiver<T>(run: (receiver: OtlpReceiver) => Promise<T>): Promise<T> {
  const receiver = await startOtlpReceiver({ decode: false });
  try {
    const result = await run(receiver);
    if (receiver.requests.length === 0) throw new Error('tracing on, but no span reached the receiver');
    return result;
  } finally {
    await receiver.close();
  }
}

const tracedEnv = (receiver: OtlpReceiver) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER: 'always_on' });

/** Runs `plan` on the arms `start` makes, stops them, and returns their rows. */
async function runPart(system: BenchSystem, plan: Omit<Plan, 'profileDir'>, start: (profileEnv: Record<string, string>) => [Promise<Arm>, Promise<Arm>], rows: (arms: [Arm, Arm]) => Row[]): Promise<Row[]> {
  const profile = profiling(plan.part);
  const arms = await startBoth(start(profile?.env ?? {}));
  try {
    await together(system, arms, { ...plan, profileDir: profile?.dir ?? null });
    return rows(arms);
  } finally {
    await Promise.all(arms.map(stopArm));
  }
}

type Timing = Pick<Plan, 'warmupSeconds' | 'seconds' | 'reps'>;

/** The spans' own price, in this process with nothing else running in it: the floor of what tracing a task costs. */
async function alonePart(system: BenchSystem): Promise<Row[]> {
  const alone = system.quick ? await measureSpansAlone(1, 2000) : await measureSpansAlone();
  return [
    { scenario: 'tracing', measure: "worker: an attempt's spans (attempt, dispatch wait, model call) created, ended and serialized, measured alone", unit: 'µs', runs: alone.worker },
    { scenario: 'tracing', measure: "API server: a submit's spans (SERVER, PRODUCER) created, ended and serialized, measured alone", unit: 'µs', runs: alone.api },
  ];
}

function noopPart(system: BenchSystem, timing: Timing): Promise<Row[]> {
  return withReceiver((receiver) =>
    runPart(
      system,
      { part: 'noop', ...timing, paced: true },
      (profile) => [startArm(system, 'tracing off', profile), startArm(system, 'traced', { ...tracedEnv(receiver), ...profile })],
      ([off, on]) => rowsOf('100 % sampled and exported vs tracing off, noop provider', on, off, { tasks: { on: 'ratio', op: '>=', value: 0.95 } }),
    ),
  );
}

async function providerPart(system: BenchSystem, timing: Timing): Promise<Row[]> {
  const fake = await startFakeOpenRouter();
  fake.script((request) => streamedAnswer(request, { chunks: PROVIDER_CHUNKS, delayMs: PROVIDER_CHUNK_DELAY_MS }));
  const workerEnv = { PROVIDER: 'auto', OPENROUTER_API_KEY: 'sk-or-bench', OPENROUTER_BASE_URL: fake.baseUrl, CIRCUIT_VOLUME_THRESHOLD: '100000' };
  try {
    return await withReceiver((receiver) =>
      runPart(
        system,
        // Each task streams 20 pieces through the output path: both arms run at about the same
        // rate whether the pauses or the CPU bound it, so the closed loop compares CPU per task as it is.
        { part: 'provider', ...timing, seconds: timing.seconds + 1, reps: Math.max(1, timing.reps - 2), paced: false },
        (profile) => [startArm(system, 'tracing off', profile, workerEnv), startArm(system, 'traced', { ...tracedEnv(receiver), ...profile }, workerEnv)],
        ([off, on]) => rowsOf(`100 % sampled vs off, a provider streaming ${PROVIDER_CHUNKS} pieces ${PROVIDER_CHUNK_DELAY_MS} ms apart`, on, off),
      ),
    );
  } finally {
    await fake.close();
  }
}

/** This checkout against `ref`'s server and workers: both off (`against`), or both traced (`against-traced`). */
async function againstPart(system: BenchSystem, timing: Timing, ref: string, traced: boolean): Promise<Row[]> {
  const base = checkout(ref);
  const run = (env: Record<string, string>) => {
    const [oldLabel, label] = traced ? [`${ref} traced`, 'traced'] : [ref, 'tracing off'];
    return runPart(
      system,
      { part: traced ? 'against-traced' : 'against', ...timing, paced: true },
      (profile) => [startArmAt(system, oldLabel, base.root, { ...env, ...profile }), startArm(system, label, { ...env, ...profile })],
      ([old, now]) =>
        traced
          ? rowsOf(`traced vs ${ref} traced, noop provider`, now, old)
          : // Off must cost nothing the bench can see: CPU per task, steadier here than tasks/s, within noise.
            rowsOf(`tracing off vs ${ref}, noop provider`, now, old, { cpu: { on: 'ratio', op: '<=', value: 1.05 } }),
    );
  };
  try {
    return await (traced ? withReceiver((receiver) => run(tracedEnv(receiver))) : run({}));
  } finally {
    base.dispose();
  }
}

/** The scenario; `against` is the `--against <ref>` of bench/main.ts. */
export async function benchTracing(system: BenchSystem, against: string | undefined): Promise<Row[]> {
  const parts = new Set((process.env.BENCH_TRACING_PARTS ?? 'alone,noop,provider,against').split(','));
  // Short windows, more of them: the median of several moves less than any one.
  const timing: Timing = system.quick ? { warmupSeconds: 0, seconds: 1, reps: 1 } : { warmupSeconds: 30, seconds: 3, reps: Math.max(system.reps, 6) };
  const rows: Row[] = [];
  if (parts.has('alone')) rows.push(...(await alonePart(system)));
  if (parts.has('noop')) rows.push(...(await noopPart(system, timing)));
  if (parts.has('provider')) rows.push(...(await providerPart(system, timing)));
  for (const traced of [false, true]) {
    if (!parts.has(traced ? 'against-traced' : 'against')) continue;
    if (against) rows.push(...(await againstPart(system, timing, against, traced)));
    else system.log(`tracing: no --against ref given, so no ${traced ? 'traced ' : ''}comparison with an earlier commit`);
  }
  return rows;
}
