/** Throwaway: worker-side and Redis-side cost of one taskAppendOutput call vs a minimal script doing the same writes. */
import { randomUUID } from 'node:crypto';
import { startRedis } from '/work/main/test/support/redis-server.ts';
import { createRedisClient, parseRedisUrl } from '/work/main/common/redis-connection.ts';
import { createRedisKeys } from '/work/main/schema/src/redis-keys.ts';
import { createTaskStore } from '/work/main/worker/task-store.ts';
import { startApiServer } from '/work/main/bench/lib/system.ts';
import { postGraphQL } from '/work/main/bench/lib/measure.ts';

const N = 5000;
const redis = await startRedis({ appendOnly: true });
const system = { redis, quick: true, reps: 1, log: console.log };
const api = await startApiServer(system);
try {
  const client = createRedisClient(parseRedisUrl(redis.url), { name: 'x', commandTimeoutMs: 0 });
  await client.connect();
  const keys = createRedisKeys();
  const store = createTaskStore({ redis: client, keys, workerId: 'bench', leaseMs: 3_600_000, maxEventsPerTask: 1000, maxOutputBytes: 100 * 1024 * 1024 } as never);
  const answer = await postGraphQL(api.url, JSON.stringify({ query: 'mutation { submitTask(input: {content: "x."}) { id } }' }));
  const taskId = (answer.data!.submitTask as { id: string }).id;
  const token = randomUUID();
  const claim = await store.claim(taskId, token);
  if (claim.status !== 'claimed') throw new Error(claim.status);
  const lease = { taskId, tenant: claim.tenant, token };
  const text = 'x'.repeat(64);
  const stats = async () => {
    const info = await redis.client.info('commandstats');
    const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info)!;
    return { calls: Number(line[1]), usec: Number(line[2]) };
  };
  const measure = async (label: string, call: () => Promise<unknown>) => {
    for (let i = 0; i < 500; i += 1) await call();
    const before = await stats();
    const cpu = process.cpuUsage();
    const t = performance.now();
    // 10 in flight, like a busy worker.
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: 10 }, call));
    const used = process.cpuUsage(cpu);
    const after = await stats();
    console.log(`${label}: client CPU ${((used.user + used.system) / N).toFixed(1)} µs/call, redis ${((after.usec - before.usec) / (after.calls - before.calls)).toFixed(1)} µs/call (${after.calls - before.calls} calls), wall ${((performance.now() - t) / N * 1000).toFixed(0)} µs/call`);
  };
  await measure('taskAppendOutput (31 shared keys)', () => store.appendOutput(lease, text));
  // The same writes with only the keys they touch.
  client.defineCommand('minimalAppend', {
    numberOfKeys: 3,
    lua: `
local f = redis.call('HMGET', KEYS[1], 'tenant', 'state', 'leaseToken', 'attempt', 'outputSeq', 'outputBytes', 'id')
if f[2] ~= 'ACTIVE' or f[3] ~= ARGV[1] then return {'stale', f[2]} end
local seq = tonumber(f[5] or '0') + 1
local bytes = tonumber(f[6] or '0') + #ARGV[2]
redis.call('HSET', KEYS[1], 'outputSeq', seq, 'outputBytes', bytes)
local id = f[4] .. '-' .. seq
redis.call('XADD', KEYS[2], id, 't', ARGV[2], 'f', '-')
redis.call('PUBLISH', ARGV[3], f[7] .. '\\n' .. id .. '\\n-\\n' .. ARGV[2])
redis.call('HINCRBY', KEYS[3], 'output_chunks', 1)
redis.call('HINCRBY', KEYS[3], 'output_bytes', #ARGV[2])
return {'ok', tostring(seq)}
`,
  });
  const minimal = (client as unknown as { minimalAppend(...a: string[]): Promise<unknown> }).minimalAppend.bind(client);
  await measure('minimal append (3 keys)', () => minimal(keys.task(taskId), keys.taskOutput(taskId), keys.taskStats(), token, text, keys.outputChannel()));
  client.disconnect();
} finally {
  await api.stop();
  await redis.dispose();
}
