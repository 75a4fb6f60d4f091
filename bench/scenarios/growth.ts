/**
 * growth: do the listing and counting queries stay flat as tasks pile up? The same queries
 * with 1k and with 100k stored tasks (a tenth of them in the DLQ), written with the real
 * create, claim and fail scripts (no queue jobs: nothing runs them). Both sizes live side by
 * side in the same Redis under two key prefixes, each served by its own API server, so the
 * two are measured interleaved, run by run, rather than minutes apart.
 */
import { randomUUID } from 'node:crypto';
import { parseRedisUrl, createRedisClient } from '../../common/redis-connection.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { compared, type Row } from '../lib/report.ts';
import { latencySummary, postGraphQL } from '../lib/measure.ts';
import { startApiServer, type BenchSystem, type Running } from '../lib/system.ts';

const QUERIES: Record<string, string> = {
  'tasks(first: 50)': '{ tasks(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id state createdAt } } }',
  queueStatus: '{ queueStatus { primary retry scheduled dlq retryRatio states { state count } } }',
  'deadLetterTasks(first: 50)': '{ deadLetterTasks(first: 50) { totalCount nodes { id state errors { errorClass } } } }',
};

async function fill(system: BenchSystem, prefix: string, from: number, to: number): Promise<void> {
  const redis = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-fill', commandTimeoutMs: 0 });
  await redis.connect();
  const keys = createRedisKeys(prefix);
  const repository = createTaskRepository({ redis, keys, maxEventsPerTask: 1000, idempotencyTtlSeconds: 3600 });
  const store = createTaskStore({ redis, keys, workerId: 'bench', leaseMs: 60_000, maxEventsPerTask: 1000 });
  let next = from;
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      while (next < to) {
        const n = next++;
        const id = randomUUID();
        await repository.create({ id, tenant: 'default', type: 'SUMMARIZE', content: `Growth task ${n}.`, maxRetries: 3, idempotencyKey: null });
        if (n % 10 === 0) {
          const token = randomUUID();
          await store.claim(id, token);
          await store.fail({ taskId: id, tenant: 'default', token: token }, {
            state: 'DLQ',
            error: { errorClass: 'PERMANENT', message: 'bench', httpStatus: 400, attempt: 1 },
            retryDelayMs: null,
            reason: 'PERMANENT',
          });
        }
      }
    }),
  );
  redis.disconnect();
}

/** p50 latency of one query, `samples` sequential requests after 5 to warm up. */
async function measure(api: Running, name: string, samples: number): Promise<number> {
  const body = JSON.stringify({ query: QUERIES[name] });
  const latencies: number[] = [];
  for (let i = 0; i < samples + 5; i += 1) {
    const started = performance.now();
    const answer = await postGraphQL(api.url, body);
    if (!answer.data) throw new Error(`${name} failed: ${JSON.stringify(answer.errors)}`);
    if (i >= 5) latencies.push(performance.now() - started);
  }
  return latencySummary(latencies).p50;
}

/** Waits for a background AOF rewrite (the fill triggers one) to end: it would skew the first reads. */
async function aofQuiet(system: BenchSystem): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    const info = await system.redis.client.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function benchGrowth(system: BenchSystem): Promise<Row[]> {
  const small = 1000;
  const large = system.quick ? 5000 : 100_000;
  const samples = system.quick ? 30 : 150;
  const filling = performance.now();
  await Promise.all([fill(system, 'small', 0, small), fill(system, 'large', 0, large)]);
  system.log(`growth: filled ${small} + ${large} tasks in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  await aofQuiet(system);
  const servers = await Promise.all([startApiServer(system, { REDIS_PREFIX: 'small' }), startApiServer(system, { REDIS_PREFIX: 'large' })]);
  const names = Object.keys(QUERIES);
  const atSmall: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const atLarge: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  try {
    for (let rep = 0; rep < system.reps; rep += 1) {
      for (const name of names) {
        // Interleaved, and the order rotated: neither size gets the quieter moment by design.
        const pair = rep % 2 === 0 ? [0, 1] : [1, 0];
        for (const which of pair) (which === 0 ? atSmall : atLarge)[name]!.push(await measure(servers[which]!, name, samples));
      }
      system.log(`growth rep ${rep + 1}: ${names.map((q) => `${q} ${atSmall[q]!.at(-1)!.toFixed(2)} -> ${atLarge[q]!.at(-1)!.toFixed(2)} ms`).join(', ')}`);
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  const label = `${large / 1000}k`;
  return names.map((name) =>
    compared('growth', `${name} p50 at ${label} tasks`, 'ms', atLarge[name]!, '1k tasks', atSmall[name]!, { on: 'ratio', op: '<=', value: 1.5 }),
  );
}
