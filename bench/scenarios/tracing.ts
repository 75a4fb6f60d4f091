/**
 * What tracing costs end to end (docs/observability.md, docs/performance.md#tracing): the same
 * closed loop of clients (submit, watch to the terminal event) against an API server and two
 * workers with tracing off, and against another such trio with every task traced
 * (OTEL_TRACES_SAMPLER=always_on) and exported over OTLP/HTTP protobuf to a loopback receiver.
 *
 * After 30 s of load that is not measured (JIT warm-up), the two arms run AT THE SAME TIME,
 * each on its own redis-server (bench/lib/arms.ts), closed-loop and then paced at
 * PACED_PER_SECOND.
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
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.ts';
import { startFakeOpenRouter, streamedAnswer } from '../../tools/fake-openrouter.ts';
import { armRows, checkout, profiling, runBoth, startArm, startArmAt, type Arm, type Plan, type Targets } from '../lib/arms.ts';
import { type Row } from '../lib/report.ts';
import { measureSpansAlone } from '../lib/tracing-micro.ts';
import { type BenchSystem } from '../lib/system.ts';

/** The fake provider's answer: this many pieces, this far apart (a real call streams for seconds). */
const PROVIDER_CHUNKS = 20;
const PROVIDER_CHUNK_DELAY_MS = 10;
/** The paced windows' rate, each arm: below either arm's ceiling with both running on 2 shared cores. */
const PACED_PER_SECOND = Number(process.env.BENCH_TRACING_RATE ?? 150);

/** Tasks/s, p99 and CPU per task by process of `ours` against `base` (bench/lib/arms.ts). */
const rowsOf = (what: string, ours: Arm, base: Arm, targets: Targets = {}): Row[] => armRows('tracing', what, ours, base, PACED_PER_SECOND, targets);

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
function runPart(system: BenchSystem, plan: Omit<Plan, 'profileDir' | 'pacedPerSecond'> & { paced: boolean }, start: (profileEnv: Record<string, string>) => [Promise<Arm>, Promise<Arm>], rows: (arms: [Arm, Arm]) => Row[]): Promise<Row[]> {
  const profile = profiling(process.env.BENCH_TRACING_PROFILE_DIR, plan.part);
  const { paced, ...timing } = plan;
  return runBoth(system, 'tracing', { ...timing, pacedPerSecond: paced ? PACED_PER_SECOND : null, profileDir: profile?.dir ?? null }, start(profile?.env ?? {}), rows);
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
