/**
 * What one bare bee-queue job costs Redis, for the end-to-end scenario's "Redis CPU per task
 * vs a raw bee-queue job" row: no-op jobs saved at `perSecond` for `seconds` while the raw
 * consumer (bench/baselines/raw-bee-worker.ts) runs them, the whole life of each job (save,
 * pop, finish, removal) inside the window.
 *
 * Why paced at our end-to-end rate and not as fast as possible: Redis's CPU per command
 * falls as commands arrive in bigger batches (fewer reads, writes and wake-ups each), and its
 * background work is spread over more jobs. At the same rate both figures pay the same.
 * bench/scenarios/worker.ts measures a drain of a pre-filled queue instead, a different figure.
 *
 * Redis CPU comes from Redis's own INFO (getrusage, microseconds), not /proc (10 ms ticks):
 * a few hundred bare jobs use only tens of milliseconds.
 */
import { redisCpuMicros } from './measure.ts';
import { createRawBeeProducer, startRawBeeWorker, stopAll, type BenchSystem } from './system.ts';

export interface RawBeeCost {
  jobs: number;
  /** Redis CPU µs per job, from the first save to the last job done. */
  redisCpuPerJob: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Saves round(perSecond × seconds) jobs (at least 100) at an even pace, waits for the
 * consumer to finish them all. Throws if it has not within `timeoutMs` (default 60 s).
 */
export async function rawBeeJobCost(system: BenchSystem, options: { perSecond: number; seconds: number; concurrency: number; timeoutMs?: number }): Promise<RawBeeCost> {
  const jobs = Math.max(100, Math.round(options.perSecond * options.seconds));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const queueName = `raw-e2e-${Date.now()}`;
  const consumer = await startRawBeeWorker(system, { BENCH_QUEUE: queueName, BENCH_JOBS: String(jobs), BENCH_CONCURRENCY: String(options.concurrency) });
  const producer = createRawBeeProducer(system, queueName);
  try {
    await producer.ready();
    const before = await redisCpuMicros(system.redis.client);
    const started = performance.now();
    const saves: Promise<unknown>[] = [];
    while (saves.length < jobs) {
      // Every few milliseconds, the saves that are due by now: about one at a time, as clients send them.
      const due = Math.min(jobs, Math.ceil(((performance.now() - started) / 1000) * options.perSecond));
      while (saves.length < due) saves.push(producer.createJob({ n: saves.length }).save());
      await sleep(2);
    }
    await Promise.all(saves);
    // The consumer says so on stdout: no command of ours lands inside the window but INFO.
    while (!consumer.lines.some((line) => line.includes('baseline done'))) {
      if (performance.now() - started > timeoutMs) throw new Error(`raw bee-queue consumer not done after ${timeoutMs} ms`);
      await sleep(5);
    }
    const used = (await redisCpuMicros(system.redis.client)) - before;
    return { jobs, redisCpuPerJob: used / jobs };
  } finally {
    await producer.close();
    await stopAll([consumer]);
  }
}
