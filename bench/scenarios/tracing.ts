/**
 * What tracing costs end to end (docs/observability.md, docs/performance.md#tracing): the same
 * closed loop of clients (submit, watch to the terminal event) against an API server and two
 * workers with tracing off, and against another such trio with every task traced
 * (OTEL_TRACES_SAMPLER=always_on) and exported over OTLP/HTTP protobuf to a loopback receiver.
 * Same run, same Redis, windows paired and their order alternated; each arm has its own key
 * prefix, so its workers take only its server's tasks.
 *
 * - `noop`: the provider that answers at once, the worst case (the target: traced tasks/s at
 *   least 95 % of untraced), with CPU per task by process, steadier than tasks/s on a shared machine.
 * - `provider`: the fake OpenRouter (in this process) streaming each answer in pieces with a
 *   pause between them, as a real model does, at a fraction of a real call's length.
 * - `--against <ref>`: tracing off here against that commit's server and workers (e.g. the
 *   commit before tracing): what the code of tracing costs when it is off.
 *
 * BENCH_TRACING_PROFILE_DIR=<dir>: every process of every arm records a V8 CPU profile of the
 * measured windows only, to <dir>/<part>/, with a manifest for bench/lib/profile-summary.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type Service } from '../../chaos/services.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.ts';
import { startFakeOpenRouter, streamedAnswer } from '../../tools/fake-openrouter.ts';
import { compared, type Row, type Target } from '../lib/report.ts';
import { startApiServer, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';
import { checkout } from './dispatch.ts';
import { endToEnd, ourPipeline, type EndToEndResult, type WindowHooks } from './http.ts';

const CLIENTS = 50;
/** The fake provider's answer: this many pieces, this far apart (a real call streams for seconds). */
const PROVIDER_CHUNKS = 20;
const PROVIDER_CHUNK_DELAY_MS = 10;

interface Arm {
  label: string;
  api: Running;
  workers: Service[];
  results: EndToEndResult[];
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

/** An API server and two workers of this checkout under key prefix `prefix`, with `env` on all three. */
async function startArm(system: BenchSystem, label: string, prefix: string, env: Record<string, string>, workerEnv: Record<string, string> = {}): Promise<Arm> {
  const shared = { REDIS_KEY_PREFIX: prefix, ...env };
  const [api, workers] = await Promise.all([startApiServer(system, shared), startWorkers(system, 2, { WORKER_CONCURRENCY: '100', ...shared, ...workerEnv })]);
  return { label, api, workers, results: [] };
}

/** The same trio started from another checkout (`root`), tracing off. */
async function startArmAt(system: BenchSystem, label: string, root: string, env: Record<string, string>): Promise<Arm> {
  const shared = { REDIS_URL: system.redis.url, REDIS_KEY_PREFIX: 'bench-against', LOG_LEVEL: 'info', ...env };
  const [server, ...workers] = await Promise.all([
    startService('server', 'bench-server-against', { ...shared, PORT: '0', NODE_ENV: 'production', SERVE_CLIENT: 'false', SUBMIT_RATE_LIMIT: 'off' }, 30_000, { root }),
    ...[0, 1].map((i) => startService('worker', `bench-worker-against-${i}`, { ...shared, PROVIDER: 'noop', WORKER_ID: `against-${i}-${Date.now() % 1e5}`, WORKER_CONCURRENCY: '100' }, 30_000, { root })),
  ]);
  const url = (JSON.parse(server!.lines.find((line) => line.includes('listening'))!) as { url: string }).url;
  const api: Running = { service: server!, url, wsUrl: `${url.replace(/^http/, 'ws')}/graphql`, stop: async () => void (await stopAll([server!])) };
  return { label, api, workers, results: [] };
}

const stopArm = (arm: Arm) => Promise.all([stopAll(arm.workers), arm.api.stop()]);

const pidsOf = (arm: Arm): Record<string, number> => ({ api: arm.api.service.pid, ...Object.fromEntries(arm.workers.map((w, i) => [`worker${i}`, w.pid])) });

/** SIGUSR2 to each process of `arm`: its profiler starts, or stops and writes (bench/lib/cpu-profile.mjs). */
function profileHooks(arm: Arm): WindowHooks {
  const toggle = () => Object.values(pidsOf(arm)).forEach((pid) => process.kill(pid, 'SIGUSR2'));
  return { opened: toggle, closed: toggle };
}

/** `reps` windows of each arm, paired, order alternated; logs each pair. */
async function paired(system: BenchSystem, part: string, arms: [Arm, Arm], seconds: number, reps: number, flush: () => Promise<void>, profileDir: string | null): Promise<void> {
  for (let rep = 0; rep < reps; rep += 1) {
    for (const arm of rep % 2 === 0 ? arms : [...arms].reverse()) {
      arm.results.push(await endToEnd(system, ourPipeline(arm.api, arm.workers.map((w) => w.pid)), CLIENTS, seconds, profileDir ? profileHooks(arm) : undefined));
    }
    const line = arms.map(({ label, results }) => {
      const r = results.at(-1)!;
      return `${label} ${r.perSecond.toFixed(0)} tasks/s (API ${r.cpu.api!.toFixed(0)}, workers ${r.cpu.workers!.toFixed(0)}, Redis ${r.cpu.redis!.toFixed(0)} µs a task)`;
    });
    system.log(`tracing ${part} rep ${rep + 1}: ${line.join(' vs ')}`);
    await flush();
  }
  if (profileDir) {
    const manifest = { arms: Object.fromEntries(arms.map((arm) => [arm.label, { tasks: arm.results.reduce((sum, r) => sum + r.tasks, 0), pids: pidsOf(arm) }])) };
    writeFileSync(join(profileDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
}

/** Tasks/s, p99 and CPU per task by process of `ours` against `base`, paired run by run. */
function rowsOf(what: string, ours: Arm, base: Arm, target?: Target): Row[] {
  const row = (measure: string, unit: string, pick: (r: EndToEndResult) => number, rowTarget?: Target) =>
    compared('tracing', `${measure}, ${what}, ${CLIENTS} clients`, unit, ours.results.map(pick), base.label, base.results.map(pick), rowTarget);
  return [
    row('tasks/s', '/s', (r) => r.perSecond, target),
    row('p99 latency', 'ms', (r) => r.p99),
    // CPU per task moves less than tasks/s when other work shares the cores.
    row('API server CPU per task', 'µs', (r) => r.cpu.api!),
    row('worker CPU per task', 'µs', (r) => r.cpu.workers!),
    row('Redis CPU per task', 'µs', (r) => r.cpu.redis!),
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

/** The noop provider: traced against off. */
async function noopPart(system: BenchSystem, flush: () => Promise<void>): Promise<Row[]> {
  const profile = profiling('noop');
  // Short windows, more pairs: a shared machine's noise moves one window, not the median of six.
  const [seconds, reps] = system.quick ? [1, 1] : [3, Math.max(system.reps, 6)];
  return withReceiver(async (receiver) => {
    const arms = await Promise.all([startArm(system, 'tracing off', 'bench-plain', { ...profile?.env }), startArm(system, 'traced', 'bench-traced', { ...tracedEnv(receiver), ...profile?.env })]);
    try {
      await paired(system, 'noop', arms, seconds, reps, flush, profile?.dir ?? null);
      return rowsOf('100 % sampled and exported vs tracing off, noop provider', arms[1], arms[0], { on: 'ratio', op: '>=', value: 0.95 });
    } finally {
      await Promise.all(arms.map(stopArm));
    }
  });
}

/** The fake OpenRouter streaming each answer in PROVIDER_CHUNKS pieces PROVIDER_CHUNK_DELAY_MS apart: traced against off. */
async function providerPart(system: BenchSystem, flush: () => Promise<void>): Promise<Row[]> {
  const profile = profiling('provider');
  const [seconds, reps] = system.quick ? [1, 1] : [4, Math.max(system.reps, 4)];
  const fake = await startFakeOpenRouter();
  fake.script((request) => streamedAnswer(request, { chunks: PROVIDER_CHUNKS, delayMs: PROVIDER_CHUNK_DELAY_MS }));
  const workerEnv = { PROVIDER: 'auto', OPENROUTER_API_KEY: 'sk-or-bench', OPENROUTER_BASE_URL: fake.baseUrl, CIRCUIT_VOLUME_THRESHOLD: '100000' };
  try {
    return await withReceiver(async (receiver) => {
      const arms = await Promise.all([
        startArm(system, 'tracing off', 'bench-plain-provider', { ...profile?.env }, workerEnv),
        startArm(system, 'traced', 'bench-traced-provider', { ...tracedEnv(receiver), ...profile?.env }, workerEnv),
      ]);
      try {
        await paired(system, 'provider', arms, seconds, reps, flush, profile?.dir ?? null);
        return rowsOf(`100 % sampled vs off, a provider streaming ${PROVIDER_CHUNKS} pieces ${PROVIDER_CHUNK_DELAY_MS} ms apart`, arms[1], arms[0]);
      } finally {
        await Promise.all(arms.map(stopArm));
      }
    });
  } finally {
    await fake.close();
  }
}

/** Tracing off here against `ref`'s server and workers (which may predate tracing). */
async function againstPart(system: BenchSystem, flush: () => Promise<void>, ref: string): Promise<Row[]> {
  const profile = profiling('against');
  const [seconds, reps] = system.quick ? [1, 1] : [3, Math.max(system.reps, 6)];
  const base = checkout(ref);
  try {
    const arms = await Promise.all([startArmAt(system, ref, base.root, { ...profile?.env }), startArm(system, 'tracing off', 'bench-plain', { ...profile?.env })]);
    try {
      await paired(system, 'against', arms, seconds, reps, flush, profile?.dir ?? null);
      return rowsOf(`tracing off vs ${ref}, noop provider`, arms[1], arms[0], { on: 'ratio', op: '>=', value: 0.95 });
    } finally {
      await Promise.all(arms.map(stopArm));
    }
  } finally {
    base.dispose();
  }
}

/** The scenario; `against` is the `--against <ref>` of bench/main.ts. BENCH_TRACING_PARTS=noop,provider picks parts. */
export async function benchTracing(system: BenchSystem, flush: () => Promise<void>, against: string | undefined): Promise<Row[]> {
  const parts = new Set((process.env.BENCH_TRACING_PARTS ?? 'noop,provider,against').split(','));
  const rows: Row[] = [];
  if (parts.has('noop')) rows.push(...(await noopPart(system, flush)));
  if (parts.has('provider')) rows.push(...(await providerPart(system, flush)));
  if (parts.has('against') && against) rows.push(...(await againstPart(system, flush, against)));
  else if (parts.has('against')) system.log('tracing: no --against ref given, so no comparison of tracing off with an earlier commit');
  return rows;
}
