/**
 * growth: do the listing and counting queries stay flat as tasks pile up? The same queries
 * with 1k and with 100k stored tasks (a tenth of them in the DLQ), written with the real
 * create, claim and fail scripts (no queue jobs: nothing runs them).
 */
import { randomUUID } from 'node:crypto';
import { parseRedisUrl, createRedisClient } from '../../common/redis-connection.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { compared, type Row } from '../lib/report.ts';
import { latencySummary, postGraphQL } from '../lib/measure.ts';
import type { BenchSystem, Running } from '../lib/system.ts';

const QUERIES: Record<string, string> = {
  'tasks(first: 50)': '{ tasks(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id state createdAt } } }',
  queueStatus: '{ queueStatus { primary retry scheduled dlq retryRatio states { state count } } }',
  'deadLetterTasks(first: 50)': '{ deadLetterTasks(first: 50) { totalCount nodes { id state errors { errorClass } } } }',
};

async function fill(system: BenchSystem, from: number, to: number): Promise<void> {
  const redis = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-fill', commandTimeoutMs: 0 });
  await redis.connect();
  const keys = createRedisKeys();
  const repository = createTaskRepository({ redis, keys, maxEventsPerTask: 1000, idempotencyTtlSeconds: 3600 });
  const store = createTaskStore({ redis, keys, workerId: 'bench', leaseMs: 60_000, maxEventsPerTask: 1000 });
  let next = from;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < to) {
        const n = next++;
        const id = randomUUID();
        await repository.create({ id, tenant: 'default', type: 'SUMMARIZE', content: `Growth task ${n}.`, maxRetries: 3, idempotencyKey: null });
        if (n % 10 === 0) {
          const token = randomUUID();
          await store.claim(id, token);
          await store.fail(id, token, {
            state: 'DLQ',
            error: { errorClass: 'PERMANENT', message: 'bench', httpStatus: 400, attempt: 1 },
            retryDelayMs: null,
            reason: 'bench',
          });
        }
      }
    }),
  );
  redis.disconnect();
}

/** p50 latency of each query, `samples` sequential requests each, in rotated order. */
async function measure(api: Running, samples: number, rep: number): Promise<Record<string, number>> {
  const names = Object.keys(QUERIES);
  const order = names.slice(rep % names.length).concat(names.slice(0, rep % names.length));
  const result: Record<string, number> = {};
  for (const name of order) {
    const body = JSON.stringify({ query: QUERIES[name] });
    const latencies: number[] = [];
    for (let i = 0; i < samples + 5; i += 1) {
      const started = performance.now();
      const answer = await postGraphQL(api.url, body);
      if (!answer.data) throw new Error(`${name} failed: ${JSON.stringify(answer.errors)}`);
      if (i >= 5) latencies.push(performance.now() - started);
    }
    result[name] = latencySummary(latencies).p50;
  }
  return result;
}

export async function benchGrowth(system: BenchSystem, api: Running): Promise<Row[]> {
  const small = 1000;
  const large = system.quick ? 5000 : 100_000;
  const samples = system.quick ? 30 : 150;
  await fill(system, 0, small);
  const atSmall: Record<string, number>[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) atSmall.push(await measure(api, samples, rep));
  const filling = performance.now();
  await fill(system, small, large);
  system.log(`growth: filled to ${large} tasks in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  const atLarge: Record<string, number>[] = [];
  for (let rep = 0; rep < system.reps; rep += 1) atLarge.push(await measure(api, samples, rep));
  system.log(`growth: ${Object.keys(QUERIES).map((q) => `${q} ${atSmall[0]![q]!.toFixed(2)} -> ${atLarge[0]![q]!.toFixed(2)} ms`).join(', ')}`);
  const label = large >= 1000 ? `${large / 1000}k` : String(large);
  return Object.keys(QUERIES).map((name) =>
    compared('growth', `${name} p50 at ${label} tasks`, 'ms', atLarge.map((r) => r[name]!), '1k tasks', atSmall.map((r) => r[name]!), { on: 'ratio', op: '<=', value: 1.5 }),
  );
}
