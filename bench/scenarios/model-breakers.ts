/**
 * model-breakers: what each provider call costs its model's shared breaker. The record (the
 * `modelBreakerRecord` script, sent without waiting by worker/model-breakers.ts) against the
 * cheapest shared counter a worker could keep instead, one HINCRBY per call, sent the same
 * way, in the same process and on the same Redis: the worker's CPU and Redis' CPU per call.
 * And the hot path, `isOpen` from the worker's cache, per question.
 */
import { randomUUID } from 'node:crypto';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { ModelCallOutcome } from '../../schema/src/model-breakers.ts';
import { createModelBreakers } from '../../worker/model-breakers.ts';
import { testLogger } from '../../test/support/silent-logger.ts';
import { compared, type Row } from '../lib/report.ts';
import { redisCpuMicros } from '../lib/measure.ts';
import type { BenchSystem } from '../lib/system.ts';

const SETTINGS = { windowMs: 60_000, volumeThreshold: 10, failureRatio: 0.5, openMs: 60_000 };

interface Cost {
  clientPerCall: number;
  redisPerCall: number;
}

/** CPU of this process and of Redis over `work`, per call. */
async function measure(system: BenchSystem, calls: number, work: () => Promise<void>): Promise<Cost> {
  const redisBefore = await redisCpuMicros(system.redis.client);
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  const redisUsed = (await redisCpuMicros(system.redis.client)) - redisBefore;
  return { clientPerCall: (used.user + used.system) / calls, redisPerCall: redisUsed / calls };
}

/** `calls` records through the worker's module, in rounds of `parallel` (a worker's concurrency). */
async function records(system: BenchSystem, calls: number, parallel: number): Promise<Cost> {
  const keys = createRedisKeys(`bench-models-${randomUUID().slice(0, 8)}`);
  const breakers = createModelBreakers({ redis: system.redis.client, keys, logger: testLogger('bench'), settings: SETTINGS, probeLeaseMs: 10_000, refreshMs: 60_000 });
  await breakers.refresh();
  const cost = await measure(system, calls, async () => {
    for (let sent = 0; sent < calls; sent += parallel) {
      for (let i = 0; i < parallel; i += 1) (await breakers.acquire('bench/model'))!.record(ModelCallOutcome.OK);
      await breakers.drain();
    }
  });
  await breakers.stop();
  return cost;
}

/** The baseline: one HINCRBY per call, sent without waiting, in the same rounds. */
async function counters(system: BenchSystem, calls: number, parallel: number): Promise<Cost> {
  const key = `bench-models-counter-${randomUUID().slice(0, 8)}`;
  const redis = system.redis.client;
  return measure(system, calls, async () => {
    for (let sent = 0; sent < calls; sent += parallel) {
      await Promise.all(Array.from({ length: parallel }, () => redis.hincrby(key, 'bench/model\tok', 1)));
    }
  });
}

/** Nanoseconds per `isOpen` question answered from the cache. */
async function hotPath(system: BenchSystem, questions: number): Promise<number> {
  const breakers = createModelBreakers({
    redis: system.redis.client,
    keys: createRedisKeys(`bench-models-${randomUUID().slice(0, 8)}`),
    logger: testLogger('bench'),
    settings: SETTINGS,
    probeLeaseMs: 10_000,
    refreshMs: 60_000,
  });
  let open = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < questions; i += 1) if (breakers.isOpen('bench/model')) open += 1;
  const ns = Number(process.hrtime.bigint() - started) / questions;
  await breakers.stop();
  if (open !== 0) throw new Error('the bench model is closed');
  return ns;
}

export async function benchModelBreakers(system: BenchSystem): Promise<Row[]> {
  const calls = system.quick ? 500 : 10_000;
  const parallel = 10;
  const ours: Cost[] = [];
  const baseline: Cost[] = [];
  const questions: number[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) {
    const order = [async () => ours.push(await records(system, calls, parallel)), async () => baseline.push(await counters(system, calls, parallel))];
    for (const run of rep % 2 === 0 ? order : order.reverse()) await run();
    questions.push(await hotPath(system, system.quick ? 100_000 : 1_000_000));
    const o = ours.at(-1)!;
    const b = baseline.at(-1)!;
    system.log(`model-breakers rep ${rep + 1}: record ${o.clientPerCall.toFixed(1)} µs here, ${o.redisPerCall.toFixed(1)} µs Redis vs HINCRBY ${b.clientPerCall.toFixed(1)}, ${b.redisPerCall.toFixed(1)}`);
  }
  const label = 'one HINCRBY per call';
  return [
    compared('model-breakers', 'record a call: worker CPU per call', 'µs', ours.map((c) => c.clientPerCall), label, baseline.map((c) => c.clientPerCall)),
    compared('model-breakers', 'record a call: Redis CPU per call', 'µs', ours.map((c) => c.redisPerCall), label, baseline.map((c) => c.redisPerCall)),
    { scenario: 'model-breakers', measure: 'isOpen from the cache (hot path)', unit: 'ns', runs: questions },
  ];
}
