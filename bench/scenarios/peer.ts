/**
 * peer: the service against the pipeline a BullMQ user would build (issue 25, bench/peer/):
 * Apollo Server 5 + graphql-ws with the same `submitTask` and `taskUpdated(id)`, on a BullMQ
 * Queue and Worker (worker processes of their own, a no-op handler), completions read back by
 * QueueEvents into an in-process PubSub. Ours runs PROVIDER=noop, so both measure the pipeline.
 *
 * Both arms have the same shape: one API process and 2 worker processes at 100 slots each, and
 * the same 50 closed-loop clients (submit, follow the task on its own `taskUpdated(id)` to its
 * end, again), sending the same GraphQL documents. As bench/scenarios/tracing.ts does, the arms
 * run AT THE SAME TIME, each on its own redis-server (AOF on), so whatever else loads the shared
 * machine loads both alike, after WARMUP_SECONDS of load that is not measured (V8 compiles
 * fresh processes for their first tens of seconds). Each pair of windows is closed-loop (tasks/s,
 * latency, CPU per task by process, Redis commands per task) and then paced, both at the same
 * rate: PACED_SHARE of the slower arm's closed-loop rate in that pair (or BENCH_PEER_RATE tasks/s
 * when set), so both do the same work a second and CPU per task differs by what a task costs,
 * not by how busy each arm was. A fixed default rate would sit above both ceilings when the
 * shared machine is busy (150/s did, at load average 8) and far below them when it is idle.
 *
 * Redis commands per task come from INFO commandstats over the window (scripts' inner commands
 * included), divided by the tasks that ended in it.
 */
import { compared, type Row, type Target } from '../lib/report.ts';
import { commandWindow, startOurArm, startPeerArm, type PipelineArm } from '../lib/peer-arms.ts';
import type { BenchSystem } from '../lib/system.ts';
import { endToEnd, type EndToEndResult } from '../lib/end-to-end.ts';

const CLIENTS = 50;
const WORKERS = 2;
const CONCURRENCY = 100;
const WARMUP_SECONDS = 30;
/** The paced windows' rate, as a share of the slower arm's closed-loop rate just measured. */
const PACED_SHARE = 0.6;
/** A fixed pace for the paced windows instead, tasks/s each arm (unset: PACED_SHARE). */
const FIXED_PER_SECOND = process.env.BENCH_PEER_RATE ? Number(process.env.BENCH_PEER_RATE) : null;

/** One closed-loop or paced window of one arm, with its Redis calls by command. */
interface Window {
  result: EndToEndResult;
  calls: Map<string, number>;
}

interface Measured {
  arm: PipelineArm;
  closed: Window[];
  paced: Window[];
}

/** Starts both arms at once; if one fails, stops the other and throws. */
async function startBoth(system: BenchSystem): Promise<[PipelineArm, PipelineArm]> {
  const settled = await Promise.allSettled([startOurArm(system, WORKERS, CONCURRENCY), startPeerArm(system, WORKERS, CONCURRENCY)]);
  const failure = settled.find((result) => result.status === 'rejected');
  if (!failure) return settled.map((result) => (result as PromiseFulfilledResult<PipelineArm>).value) as [PipelineArm, PipelineArm];
  await Promise.all(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])));
  throw failure.reason;
}

async function window(arm: PipelineArm, seconds: number, perSecond?: number): Promise<Window> {
  const counts = commandWindow(arm.system.redis.client);
  const result = await endToEnd(arm.system, arm.pipeline, CLIENTS, seconds, { hooks: counts, perSecond });
  return { result, calls: await counts.calls() };
}

const total = (calls: Map<string, number>) => [...calls.values()].reduce((sum, n) => sum + n, 0);
const commandsPerTask = (w: Window) => total(w.calls) / Math.max(1, w.result.tasks);

/** Calls per task by command over `windows` pooled, largest first (the log's breakdown). */
function byCommand(windows: Window[]): string {
  const tasks = windows.reduce((sum, w) => sum + w.result.tasks, 0);
  const pooled = new Map<string, number>();
  for (const w of windows) for (const [name, n] of w.calls) pooled.set(name, (pooled.get(name) ?? 0) + n);
  return [...pooled]
    .map(([name, n]) => [name, n / Math.max(1, tasks)] as const)
    .filter(([, perTask]) => perTask >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perTask]) => `${name} ${perTask.toFixed(2)}`)
    .join(', ');
}

const describe = (w: Window) => {
  const { perSecond, p50, p99, cpu, errors } = w.result;
  return `${perSecond.toFixed(0)} tasks/s (p50 ${p50.toFixed(0)}, p99 ${p99.toFixed(0)} ms; API ${cpu.api!.toFixed(0)}, workers ${cpu.workers!.toFixed(0)}, Redis ${cpu.redis!.toFixed(0)} µs a task; ${commandsPerTask(w).toFixed(1)} commands a task; ${errors} errors)`;
};

/** Both arms' windows, paired: closed-loop, then paced (full runs), with a flush of both Redis after each. */
async function measure(system: BenchSystem, arms: [PipelineArm, PipelineArm], timing: { warmupSeconds: number; seconds: number; reps: number; paced: boolean }): Promise<[Measured, Measured]> {
  const [ours, peer]: [Measured, Measured] = [
    { arm: arms[0], closed: [], paced: [] },
    { arm: arms[1], closed: [], paced: [] },
  ];
  const flush = () => Promise.all(arms.map((arm) => arm.system.redis.client.flushall()));
  if (timing.warmupSeconds > 0) {
    await Promise.all(arms.map((arm) => endToEnd(arm.system, arm.pipeline, CLIENTS, timing.warmupSeconds)));
    await flush();
  }
  for (let rep = 0; rep < timing.reps; rep += 1) {
    const [o, p] = await Promise.all(arms.map((arm) => window(arm, timing.seconds)));
    ours.closed.push(o!);
    peer.closed.push(p!);
    system.log(`peer rep ${rep + 1}: ours ${describe(o!)} vs BullMQ ${describe(p!)}`);
    await flush();
    if (!timing.paced) continue;
    const rate = FIXED_PER_SECOND ?? Math.max(1, Math.round(PACED_SHARE * Math.min(o!.result.perSecond, p!.result.perSecond)));
    const [op, pp] = await Promise.all(arms.map((arm) => window(arm, timing.seconds, rate)));
    ours.paced.push(op!);
    peer.paced.push(pp!);
    system.log(`peer rep ${rep + 1} paced at ${rate}/s: ours ${describe(op!)} vs BullMQ ${describe(pp!)}`);
    await flush();
  }
  system.log(`peer commands per task, closed-loop windows pooled: ours ${byCommand(ours.closed)}; BullMQ ${byCommand(peer.closed)}`);
  return [ours, peer];
}

/** The rows, ours against the peer window by window; issue 25's targets on the rows they bound. */
function rowsOf(ours: Measured, peer: Measured): Row[] {
  type Pick = (w: Window) => number;
  const row = (measure: string, unit: string, windows: (m: Measured) => Window[], pick: Pick, target?: Target) =>
    compared('peer', measure, unit, windows(ours).map(pick), 'BullMQ peer', windows(peer).map(pick), target);
  const closed = (m: Measured) => m.closed;
  const paced = (m: Measured) => m.paced;
  const cpu = (name: string): Pick => (w) => w.result.cpu[name]!;
  const all: Pick = (w) => w.result.cpu.api! + w.result.cpu.workers! + w.result.cpu.redis!;
  // CPU per process is bounded where both arms do the same work a second; without paced
  // windows (--quick), on the closed-loop rows.
  const cpuTargets = ours.paced.length === 0;
  const atMost2: Target = { on: 'ratio', op: '<=', value: 2 };
  const rows = [
    row(`tasks/s, ${CLIENTS} clients`, '/s', closed, (w) => w.result.perSecond, { on: 'ratio', op: '>=', value: 0.6 }),
    row(`p50 latency, ${CLIENTS} clients`, 'ms', closed, (w) => w.result.p50),
    row(`p99 latency, ${CLIENTS} clients`, 'ms', closed, (w) => w.result.p99),
    row('API process CPU per task', 'µs', closed, cpu('api'), cpuTargets ? atMost2 : undefined),
    row(`worker CPU per task (${WORKERS} processes summed)`, 'µs', closed, cpu('workers'), cpuTargets ? atMost2 : undefined),
    row('Redis CPU per task', 'µs', closed, cpu('redis')),
    row('API + workers + Redis CPU per task', 'µs', closed, all),
    row("Redis commands per task (scripts' inner commands included)", '', closed, commandsPerTask, { on: 'value', op: '<=', value: 45 }),
  ];
  if (ours.paced.length > 0) {
    const at = FIXED_PER_SECOND ? `at ${FIXED_PER_SECOND} tasks/s` : `paced (both at ${PACED_SHARE}× the slower arm's tasks/s)`;
    rows.push(
      row(`tasks/s reached, ${at}`, '/s', paced, (w) => w.result.perSecond),
      row(`API process CPU per task, ${at}`, 'µs', paced, cpu('api'), atMost2),
      row(`worker CPU per task, ${at}`, 'µs', paced, cpu('workers'), atMost2),
      row(`Redis CPU per task, ${at}`, 'µs', paced, cpu('redis')),
      row(`API + workers + Redis CPU per task, ${at}`, 'µs', paced, all),
      row(`Redis commands per task, ${at}`, '', paced, commandsPerTask),
    );
  }
  const errors = (m: Measured) => [...m.closed, ...m.paced].map((w) => w.result.errors);
  if ([...errors(ours), ...errors(peer)].some((n) => n > 0)) {
    rows.push({ scenario: 'peer', measure: 'failed or timed-out tasks, every window (ours; BullMQ peer)', unit: '', runs: errors(ours), baseline: { label: 'BullMQ peer', runs: errors(peer) } });
  }
  return rows;
}

/** The scenario (`npm run bench -- --only peer`): its own Redis servers, none of the shared system's processes. */
export async function benchPeer(system: BenchSystem): Promise<Row[]> {
  // Short windows, more of them: the median of several moves less than any one.
  const timing = system.quick ? { warmupSeconds: 0, seconds: 1, reps: 1, paced: false } : { warmupSeconds: WARMUP_SECONDS, seconds: 3, reps: Math.max(system.reps, 6), paced: true };
  const arms = await startBoth(system);
  try {
    const [ours, peer] = await measure(system, arms, timing);
    return rowsOf(ours, peer);
  } finally {
    await Promise.all(arms.map((arm) => arm.stop()));
  }
}
