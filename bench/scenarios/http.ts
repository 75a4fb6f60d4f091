/**
 * submit, end-to-end and scale: closed-loop clients against the real server, compared with
 * the no-op Apollo mutation on the same server stack (bench/baselines/noop-server.ts) and,
 * end to end, with the naive pipeline (bench/baselines/naive-pipeline.ts) and a bare
 * bee-queue job's Redis cost (bench/lib/raw-bee-cost.ts).
 */
import { compared, type Row } from '../lib/report.ts';
import { cpuMeter, httpLoad, pooled, redisCpuMicros, type HttpLoadResult } from '../lib/measure.ts';
import { rawBeeJobCost, type RawBeeCost } from '../lib/raw-bee-cost.ts';
import { startNaivePipeline, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';
import { endToEnd, naivePipeline, ourPipeline, perOp, type EndToEndResult } from '../lib/end-to-end.ts';

const CONTENT = 'Redis is an in-memory data store. Job queues are often built on Redis lists. The weather was nice.';
const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id state version } }';
const NOOP = 'mutation ($input: NoopInput!) { noop(input: $input) { id state version } }';

const submitBody = (n: number) => JSON.stringify({ query: SUBMIT, variables: { input: { content: `${CONTENT} #${n}` } } });
const noopBody = (n: number) => JSON.stringify({ query: NOOP, variables: { input: { content: `${CONTENT} #${n}` } } });

type Cpu = Record<string, number>;
type Measured = HttpLoadResult & { cpu: Cpu };

/** The no-op mutation under `clients` closed-loop clients, with its server's CPU. */
export async function noopLoad(noop: Running, clients: number, seconds: number): Promise<Measured> {
  let meter: ReturnType<typeof cpuMeter> | null = null;
  let cpu: Cpu = {};
  const result = await httpLoad({
    url: noop.url,
    clients,
    seconds,
    warmupSeconds: 0.2,
    makeBody: noopBody,
    isOk: (answer) => Boolean(answer.data?.noop),
    onWindow: { start: () => (meter = cpuMeter({ api: noop.service.pid, bench: process.pid })), stop: () => (cpu = meter!.stop()) },
  });
  return { ...result, cpu };
}


export function cpuRows(scenario: string, label: string, perRun: Cpu[]): Row[] {
  const names = Object.keys(perRun[0] ?? {});
  return names.map((name) => ({ scenario, measure: `CPU per ${label}: ${name}`, unit: 'µs', runs: perRun.map((cpu) => cpu[name]!) }));
}

export async function benchSubmit(system: BenchSystem, api: Running, noop: Running): Promise<Row[]> {
  // Each run alternates short slices of ours and the baseline, so a burst of load from
  // elsewhere on the machine lands on both rather than on one.
  const slices = system.quick ? 1 : 4;
  const sliceSeconds = 1;
  const ours: Measured[] = [];
  const base: Measured[] = [];
  const oursSlice = async (): Promise<Measured> => {
    let meter: ReturnType<typeof cpuMeter> | null = null;
    let cpu: Cpu = {};
    const result = await httpLoad({
      url: api.url,
      clients: 50,
      seconds: sliceSeconds,
      warmupSeconds: 0.2,
      makeBody: submitBody,
      isOk: (answer) => Boolean(answer.data?.submitTask),
      onWindow: {
        start: () => (meter = cpuMeter({ api: api.service.pid, redis: system.redis.pid(), bench: process.pid })),
        stop: () => (cpu = meter!.stop()),
      },
    });
    return { ...result, cpu };
  };
  // One unmeasured round first: both servers' code gets compiled before anything counts.
  await oursSlice();
  await noopLoad(noop, 50, sliceSeconds);
  for (let rep = 0; rep < system.reps; rep += 1) {
    const mine: Measured[] = [];
    const theirs: Measured[] = [];
    for (let slice = 0; slice < slices; slice += 1) {
      // Rotate the order: whichever runs first must not always get the quieter moment.
      if ((rep + slice) % 2 === 0) {
        mine.push(await oursSlice());
        theirs.push(await noopLoad(noop, 50, sliceSeconds));
      } else {
        theirs.push(await noopLoad(noop, 50, sliceSeconds));
        mine.push(await oursSlice());
      }
    }
    ours.push(pooled(mine));
    base.push(pooled(theirs));
    system.log(`submit rep ${rep + 1}: ${ours.at(-1)!.perSecond.toFixed(0)}/s vs no-op ${base.at(-1)!.perSecond.toFixed(0)}/s`);
  }
  return [
    compared('submit', 'submitTask/s, 50 clients', '/s', ours.map((r) => r.perSecond), 'no-op mutation', base.map((r) => r.perSecond), { on: 'ratio', op: '>=', value: 0.8 }),
    compared('submit', 'p50 latency', 'ms', ours.map((r) => r.p50), 'no-op', base.map((r) => r.p50)),
    compared('submit', 'p99 latency', 'ms', ours.map((r) => r.p99), 'no-op', base.map((r) => r.p99)),
    // CPU time per request moves far less with the machine's load than throughput does.
    compared('submit', 'API CPU per request', 'µs', ours.map((r) => r.cpu.api! / Math.max(1, r.requests)), 'no-op', base.map((r) => r.cpu.api! / Math.max(1, r.requests))),
    ...cpuRows('submit', 'submit', ours.map((r) => perOp(r.cpu, r.requests))),
    ...cpuRows('submit', 'no-op mutation', base.map((r) => perOp(r.cpu, r.requests))),
  ];
}



const totalCpu = (r: EndToEndResult) => r.cpu.api! + r.cpu.workers! + r.cpu.redis!;


/**
 * Ours, the naive pipeline and the no-op mutation under the same closed-loop clients, each
 * rep in a rotated order (2 workers at concurrency 100 on both pipelines); right after ours,
 * a bare bee-queue job's Redis cost at the rate ours reached. The single-Redis ceiling is what one Redis core could carry at the
 * measured Redis CPU per task, if nothing else ran out first.
 */
export async function benchEndToEnd(system: BenchSystem, api: Running, noop: Running, flush: () => Promise<void>): Promise<Row[]> {
  const seconds = system.quick ? 1 : 4;
  const clientCounts = system.quick ? [50] : [50, 200];
  const [workers, naive] = await Promise.all([startWorkers(system, 2, { WORKER_CONCURRENCY: '100' }), startNaivePipeline(system, 2, 100)]);
  const rows: Row[] = [];
  try {
    const ourSide = ourPipeline(api, workers.map((w) => w.pid));
    const naiveSide = naivePipeline(naive);
    // What Redis spends with no task at all (heartbeats, stall checks, AOF, its own timers):
    // every "Redis CPU per task" below includes this share, divided by tasks/s.
    const idleSeconds = system.quick ? 1 : 2;
    const idleBefore = await redisCpuMicros(system.redis.client);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idle = ((await redisCpuMicros(system.redis.client)) - idleBefore) / idleSeconds;
    rows.push({ scenario: 'end-to-end', measure: 'Redis CPU when idle, every worker up', unit: 'µs/s', runs: [idle] });
    for (const clients of clientCounts) {
      const ours: EndToEndResult[] = [];
      const naives: EndToEndResult[] = [];
      const base: Measured[] = [];
      const raws: RawBeeCost[] = [];
      for (let rep = 0; rep < system.reps; rep += 1) {
        const order = [
          async () => {
            ours.push(await endToEnd(system, ourSide, clients, seconds));
            // Bare jobs at the rate ours just ran at (see raw-bee-cost.ts for why the same rate).
            raws.push(await rawBeeJobCost(system, { perSecond: ours.at(-1)!.perSecond, seconds, concurrency: 200 }));
          },
          async () => void naives.push(await endToEnd(system, naiveSide, clients, seconds)),
          async () => void base.push(await noopLoad(noop, clients, seconds)),
        ];
        // Rotate the order: whichever runs first must not always get the quieter moment.
        for (const run of order.slice(rep % order.length).concat(order.slice(0, rep % order.length))) await run();
        const [o, v, b, r] = [ours.at(-1)!, naives.at(-1)!, base.at(-1)!, raws.at(-1)!];
        system.log(
          `end-to-end ${clients} clients rep ${rep + 1}: ${o.perSecond.toFixed(0)} tasks/s (p99 ${o.p99.toFixed(0)} ms, Redis ${o.cpu.redis!.toFixed(0)} µs/task, ${o.errors} errors)` +
            ` vs naive ${v.perSecond.toFixed(0)} tasks/s (p99 ${v.p99.toFixed(0)} ms, Redis ${v.cpu.redis!.toFixed(0)} µs/task, ${v.errors} errors)` +
            ` vs no-op ${b.perSecond.toFixed(0)}/s (p99 ${b.p99.toFixed(0)} ms), raw bee-queue job Redis ${r.redisCpuPerJob.toFixed(0)} µs (${r.jobs} jobs)`,
        );
        await flush();
      }
      const redisOurs = ours.map((r) => r.cpu.redis!);
      const redisNaive = naives.map((r) => r.cpu.redis!);
      rows.push(
        compared('end-to-end', `tasks/s vs no-op mutation, ${clients} clients`, '/s', ours.map((r) => r.perSecond), 'no-op mutation', base.map((r) => r.perSecond), { on: 'ratio', op: '>=', value: 0.35 }),
        compared('end-to-end', `tasks/s vs naive pipeline, ${clients} clients`, '/s', ours.map((r) => r.perSecond), 'naive pipeline', naives.map((r) => r.perSecond), { on: 'ratio', op: '>=', value: 0.6 }),
        compared('end-to-end', `p50 latency, ${clients} clients`, 'ms', ours.map((r) => r.p50), 'no-op', base.map((r) => r.p50)),
        compared('end-to-end', `p99 vs no-op mutation p99, ${clients} clients`, 'ms', ours.map((r) => r.p99), 'no-op', base.map((r) => r.p99), { on: 'ratio', op: '<=', value: 3 }),
        compared('end-to-end', `p99 vs naive pipeline p99, ${clients} clients`, 'ms', ours.map((r) => r.p99), 'naive', naives.map((r) => r.p99)),
        compared('end-to-end', `CPU per task, API + workers + Redis, ${clients} clients`, 'µs', ours.map(totalCpu), 'no-op API CPU', base.map((r) => r.cpu.api! / Math.max(1, r.requests))),
        compared('end-to-end', `CPU per task vs naive pipeline, API + workers + Redis, ${clients} clients`, 'µs', ours.map(totalCpu), 'naive', naives.map(totalCpu)),
        compared('end-to-end', `Redis CPU µs per end-to-end task, ${clients} clients`, 'µs', redisOurs, 'naive', redisNaive),
        compared('end-to-end', `Redis CPU µs per end-to-end task vs a raw bee-queue job, ${clients} clients`, 'µs', redisOurs, 'raw bee-queue job', raws.map((r) => r.redisCpuPerJob), { on: 'ratio', op: '<=', value: 2 }),
        compared('end-to-end', `single-Redis ceiling (1,000,000 ÷ Redis µs per task), ${clients} clients`, '/s', redisOurs.map((us) => 1_000_000 / us), 'naive', redisNaive.map((us) => 1_000_000 / us)),
        ...cpuRows('end-to-end', `task (${clients} clients)`, ours.map((r) => r.cpu)),
        ...cpuRows('end-to-end', `naive task (${clients} clients)`, naives.map((r) => r.cpu)),
      );
      const errors = ours.map((r) => r.errors);
      const naiveErrors = naives.map((r) => r.errors);
      if (errors.some((count) => count > 0) || naiveErrors.some((count) => count > 0)) {
        rows.push({ scenario: 'end-to-end', measure: `failed or timed-out tasks (ours; naive), ${clients} clients`, unit: '', runs: errors, baseline: { label: 'naive', runs: naiveErrors } });
      }
    }
  } finally {
    await Promise.all([stopAll(workers), naive.stop()]);
  }
  return rows;
}

export async function benchScale(system: BenchSystem, api: Running, flush: () => Promise<void>): Promise<Row[]> {
  const seconds = system.quick ? 1 : 4;
  const counts = system.quick ? [1, 2] : [1, 2, 4];
  const results = new Map<number, EndToEndResult[]>(counts.map((count) => [count, []]));
  for (let rep = 0; rep < system.reps; rep += 1) {
    const order = rep % 2 === 0 ? counts : [...counts].reverse();
    for (const count of order) {
      // 100 task slots in all, however many processes share them.
      const workers = await startWorkers(system, count, { WORKER_CONCURRENCY: String(Math.ceil(100 / count)) });
      try {
        results.get(count)!.push(await endToEnd(system, ourPipeline(api, workers.map((w) => w.pid)), 50, seconds));
      } finally {
        await stopAll(workers);
      }
      await flush();
    }
    system.log(`scale rep ${rep + 1}: ${counts.map((c) => `${c}w ${results.get(c)!.at(-1)!.perSecond.toFixed(0)}/s`).join(', ')}`);
  }
  const one = results.get(1)!.map((r) => r.perSecond);
  return counts.flatMap((count) => [
    count === 1
      ? { scenario: 'scale', measure: 'tasks/s, 1 worker, 50 clients', unit: '/s', runs: one }
      : compared('scale', `tasks/s, ${count} workers, 50 clients`, '/s', results.get(count)!.map((r) => r.perSecond), '1 worker', one),
    ...cpuRows('scale', `task (${count} worker${count > 1 ? 's' : ''})`, results.get(count)!.map((r) => r.cpu)).filter((row) => !row.measure.endsWith('bench')),
  ]);
}
