/**
 * worker: CPU and Redis commands per task for one worker draining a pre-filled queue, against
 * raw bee-queue no-op jobs at the same concurrency. Both consumers are paused (SIGSTOP)
 * while their queue fills, so the window holds the draining and nothing else.
 */
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import type { Service } from '../../chaos/services.ts';
import { compared, type Row } from '../lib/report.ts';
import { cpuMeter, postGraphQL, redisCommandCount } from '../lib/measure.ts';
import { createRawBeeProducer, startRawBeeWorker, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';

const CONCURRENCY = 10;
const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';

interface Drain {
  cpuPerTask: number;
  redisCpuPerTask: number;
  commandsPerTask: number;
  perSecond: number;
  /** Calls per task by command (INFO commandstats, which counts commands run inside scripts). */
  byCommand: Record<string, number>;
}

/** Calls so far per command, from INFO commandstats. */
async function commandCalls(redis: BenchSystem['redis']['client']): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].flatMap((m) => [[m[1]!, Number(m[2])], [`${m[1]!} µs`, Number(m[3])]]));
}

async function inParallel(total: number, parallel: number, job: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) await job(next++);
    }),
  );
}

/** Resumes `consumer`, waits for `isDone` (polling costs one command each, subtracted), measures. */
async function drain(system: BenchSystem, consumer: Service, tasks: number, isDone: () => Promise<boolean>, commandsPerPoll: number): Promise<Drain> {
  const redis = system.redis.client;
  const callsBefore = await commandCalls(redis);
  const commandsBefore = await redisCommandCount(redis);
  const meter = cpuMeter({ consumer: consumer.pid, redis: system.redis.pid() });
  const started = performance.now();
  consumer.signal('SIGCONT');
  let polls = 0;
  while (!(await isDone())) {
    polls += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = meter.stop();
  // INFO itself, and each poll, are commands of ours, not of the consumer.
  const commands = (await redisCommandCount(redis)) - commandsBefore - (polls + 1) * commandsPerPoll - 1;
  const callsAfter = await commandCalls(redis);
  const byCommand = Object.fromEntries(
    [...callsAfter]
      .map(([name, calls]) => [name, (calls - (callsBefore.get(name) ?? 0)) / tasks] as const)
      .filter(([, perTask]) => perTask >= 0.05)
      .sort((a, b) => b[1] - a[1]),
  );
  return { cpuPerTask: cpu.consumer! / tasks, redisCpuPerTask: cpu.redis! / tasks, commandsPerTask: commands / tasks, perSecond: tasks / seconds, byCommand };
}

async function ours(system: BenchSystem, api: Running, tasks: number, logLevel = 'info'): Promise<Drain> {
  const keys = createRedisKeys();
  const redis = system.redis.client;
  // BENCH_WORKER_PROFILE_DIR=<dir>: each worker writes a V8 CPU profile there when it exits.
  const profileDir = process.env.BENCH_WORKER_PROFILE_DIR;
  const preload = new URL('../lib/cpu-profile.mjs', import.meta.url).pathname;
  const profile: Record<string, string> = profileDir ? { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROFILE_DIR: profileDir } : {};
  const [worker] = await startWorkers(system, 1, { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: logLevel, ...profile });
  try {
    worker!.signal('SIGSTOP');
    const before = await redis.zcard(keys.tasksInState('COMPLETED'));
    await inParallel(tasks, 50, (n) => postGraphQL(api.url, JSON.stringify({ query: SUBMIT, variables: { input: { content: `Bench worker task ${n}. It has two sentences.` } } })));
    return await drain(system, worker!, tasks, async () => (await redis.zcard(keys.tasksInState('COMPLETED'))) >= before + tasks, 1);
  } finally {
    await stopAll([worker!]);
  }
}

async function raw(system: BenchSystem, tasks: number, rep: number): Promise<Drain> {
  const queueName = `raw-${rep}-${Date.now()}`;
  const consumer = await startRawBeeWorker(system, { BENCH_QUEUE: queueName, BENCH_JOBS: String(tasks), BENCH_CONCURRENCY: String(CONCURRENCY) });
  const producer = createRawBeeProducer(system, queueName);
  try {
    consumer.signal('SIGSTOP');
    await producer.ready();
    await producer.saveAll(Array.from({ length: tasks }, (_, n) => producer.createJob({ n })));
    return await drain(system, consumer, tasks, async () => consumer.lines.some((line) => line.includes('baseline done')), 0);
  } finally {
    await producer.close();
    await stopAll([consumer]);
  }
}

export async function benchWorker(system: BenchSystem, api: Running, flush: () => Promise<void>): Promise<Row[]> {
  // Enough tasks that the raw baseline's Redis CPU spans many clock ticks (10 ms each in /proc).
  const tasks = system.quick ? 200 : 5000;
  const results: Drain[] = [];
  const quiet: Drain[] = [];
  const baselines: Drain[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) {
    const runOurs = async () => {
      results.push(await ours(system, api, tasks));
    };
    // The same worker logging warnings only: how much of its CPU the two info lines per task take.
    const runQuiet = async () => {
      quiet.push(await ours(system, api, tasks, 'warn'));
    };
    const runRaw = async () => {
      baselines.push(await raw(system, tasks, rep));
    };
    const order = [runOurs, runRaw, runQuiet];
    for (const run of order.slice(rep % 3).concat(order.slice(0, rep % 3))) await run();
    await flush();
    const o = results.at(-1)!;
    const b = baselines.at(-1)!;
    system.log(`worker rep ${rep + 1}: ${o.cpuPerTask.toFixed(0)} µs, ${o.commandsPerTask.toFixed(1)} commands per task vs raw ${b.cpuPerTask.toFixed(0)} µs, ${b.commandsPerTask.toFixed(1)}`);
    const perCommand = (d: Drain, usec: boolean) =>
      Object.entries(d.byCommand)
        .filter(([name]) => name.endsWith(' µs') === usec)
        .map(([name, n]) => `${name} ${n.toFixed(usec ? 1 : 2)}`)
        .join(', ');
    system.log(`worker rep ${rep + 1} commands per task (polls included): ours ${perCommand(o, false)}; raw ${perCommand(b, false)}`);
    // Redis' own time per command (a script's time includes the commands it runs).
    system.log(`worker rep ${rep + 1} Redis µs per task by command: ours ${perCommand(o, true)}; raw ${perCommand(b, true)}`);
    system.log(`worker rep ${rep + 1} Redis CPU per task: ${o.redisCpuPerTask.toFixed(0)} µs vs raw ${b.redisCpuPerTask.toFixed(0)} µs`);
  }
  const label = `raw bee-queue`;
  return [
    compared('worker', `worker CPU per task (concurrency ${CONCURRENCY})`, 'µs', results.map((r) => r.cpuPerTask), label, baselines.map((r) => r.cpuPerTask), { on: 'ratio', op: '<=', value: 1.8 }),
    compared('worker', 'worker CPU per task, LOG_LEVEL=warn', 'µs', quiet.map((r) => r.cpuPerTask), label, baselines.map((r) => r.cpuPerTask)),
    { ...compared('worker', 'Redis commands per task (scripts\' commands included)', '', results.map((r) => r.commandsPerTask), label, baselines.map((r) => r.commandsPerTask)), target: { on: 'value', op: '<=', value: 24 } },
    compared('worker', 'Redis CPU per task', 'µs', results.map((r) => r.redisCpuPerTask), label, baselines.map((r) => r.redisCpuPerTask)),
    compared('worker', 'tasks/s draining', '/s', results.map((r) => r.perSecond), label, baselines.map((r) => r.perSecond)),
  ];
}
