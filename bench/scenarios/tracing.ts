/**
 * What tracing costs end to end (docs/observability.md): the same closed loop of clients
 * (submit, watch to the terminal event) against an API server and two workers with tracing off,
 * and against another pair with every task traced (OTEL_TRACES_SAMPLER=always_on) and exported
 * over OTLP/HTTP protobuf to a loopback receiver that counts what it gets. Same run, same Redis,
 * runs paired and their order rotated; the target: traced tasks/s at least 95 % of untraced.
 */
import { compared, type Row } from '../lib/report.ts';
import { startOtlpReceiver } from '../../test/support/otlp-receiver.ts';
import { startApiServer, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';
import { endToEnd, ourPipeline, type EndToEndResult } from './http.ts';

export async function benchTracing(system: BenchSystem, api: Running, flush: () => Promise<void>): Promise<Row[]> {
  const seconds = system.quick ? 1 : 3;
  const clients = 50;
  // Short windows, more pairs: a shared machine's noise moves one window, not the median of six.
  const reps = system.quick ? 1 : Math.max(system.reps, 6);
  const receiver = await startOtlpReceiver({ decode: false });
  // Its own key prefix: each side's workers take only their own server's tasks.
  const tracingEnv = { REDIS_KEY_PREFIX: 'bench-traced', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER: 'always_on' };
  const traced = await startApiServer(system, tracingEnv);
  const [plainWorkers, tracedWorkers] = await Promise.all([
    startWorkers(system, 2, { WORKER_CONCURRENCY: '100' }),
    startWorkers(system, 2, { WORKER_CONCURRENCY: '100', ...tracingEnv }),
  ]);
  try {
    const off: EndToEndResult[] = [];
    const on: EndToEndResult[] = [];
    for (let rep = 0; rep < reps; rep += 1) {
      const order = [
        async () => void off.push(await endToEnd(system, ourPipeline(api, plainWorkers.map((w) => w.pid)), clients, seconds)),
        async () => void on.push(await endToEnd(system, ourPipeline(traced, tracedWorkers.map((w) => w.pid)), clients, seconds)),
      ];
      for (const run of rep % 2 === 0 ? order : [...order].reverse()) await run();
      const [a, b] = [on.at(-1)!, off.at(-1)!];
      system.log(
        `tracing rep ${rep + 1}: on ${a.perSecond.toFixed(0)} tasks/s (API ${a.cpu.api!.toFixed(0)} µs, workers ${a.cpu.workers!.toFixed(0)} µs a task)` +
          ` vs off ${b.perSecond.toFixed(0)} tasks/s (API ${b.cpu.api!.toFixed(0)} µs, workers ${b.cpu.workers!.toFixed(0)} µs) (${receiver.requests.length} OTLP requests so far)`,
      );
      await flush();
    }
    if (receiver.requests.length === 0) throw new Error('tracing on, but no span reached the receiver');
    return [
      compared('tracing', `tasks/s, 100 % sampled and exported vs tracing off, ${clients} clients`, '/s', on.map((r) => r.perSecond), 'tracing off', off.map((r) => r.perSecond), { on: 'ratio', op: '>=', value: 0.95 }),
      compared('tracing', `p99 latency, traced vs off, ${clients} clients`, 'ms', on.map((r) => r.p99), 'tracing off', off.map((r) => r.p99)),
      // CPU per task moves less than tasks/s when other work shares the cores.
      compared('tracing', `API server CPU per task, traced vs off, ${clients} clients`, 'µs', on.map((r) => r.cpu.api!), 'tracing off', off.map((r) => r.cpu.api!)),
      compared('tracing', `worker CPU per task, traced vs off, ${clients} clients`, 'µs', on.map((r) => r.cpu.workers!), 'tracing off', off.map((r) => r.cpu.workers!)),
      compared('tracing', `Redis CPU per task, traced vs off, ${clients} clients`, 'µs', on.map((r) => r.cpu.redis!), 'tracing off', off.map((r) => r.cpu.redis!)),
    ];
  } finally {
    await Promise.all([stopAll([...plainWorkers, ...tracedWorkers]), traced.stop()]);
    await receiver.close();
  }
}
