/**
 * `npm run bench -- --only calls`: a task's Redis commands, call by call (issue 25; the table
 * in docs/performance.md, "Where a task's commands go"). Our API server and two workers on a
 * Redis of their own run 5 closed-loop clients (submit, follow on `taskUpdated(id)` to the end)
 * while MONITOR records every command; each is put under the script call that ran it. Counts
 * are the same run to run (a light load, so MONITOR's own cost does not matter): no baseline.
 */
import { commandsPerTask, describeTrace, totalCommandsPerTask, traceCommands } from '../lib/command-trace.ts';
import { endToEnd, ourPipeline } from '../lib/end-to-end.ts';
import { startArm, stopArm } from '../lib/arms.ts';
import type { Row } from '../lib/report.ts';
import type { BenchSystem } from '../lib/system.ts';

const CLIENTS = 5;

export async function benchCalls(system: BenchSystem): Promise<Row[]> {
  const arm = await startArm(system, 'ours', {});
  try {
    const pipeline = ourPipeline(arm.api, arm.workers.map((worker) => worker.pid));
    // Warm: the scripts loaded, the connections open, the hour's and the day's counters made.
    await endToEnd(system, pipeline, CLIENTS, 1);
    const trace = await traceCommands(arm.system.redis.url, async () => void (await endToEnd(system, pipeline, CLIENTS, system.quick ? 1 : 3)));
    for (const line of describeTrace(trace)) system.log(`calls: ${line}`);
    return [
      { scenario: 'calls', measure: "Redis commands per task, MONITOR at 5 clients (scripts' inner commands included)", unit: '', runs: [totalCommandsPerTask(trace)], target: { on: 'value', op: '<=', value: 45 } },
      ...trace.calls
        .filter((cost) => cost.calls / Math.max(1, trace.tasks) >= 0.05)
        .map((cost) => ({ scenario: 'calls', measure: `${cost.name}: commands per task (${cost.keysPerCall.toFixed(0)} keys a call)`, unit: '', runs: [commandsPerTask(cost, trace.tasks)] })),
    ];
  } finally {
    await stopArm(arm);
  }
}
