/**
 * The bench's command trace (bench/lib/command-trace.ts, `npm run bench -- --only calls`): each
 * command MONITOR feeds goes under the script call that ran it, scripts are named, and commands
 * sent outside scripts are counted apart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsPerTask, describeTrace, traceCommands } from '../bench/lib/command-trace.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';

let redis: TestRedis;
const keys = createRedisKeys(`trace-${randomUUID().slice(0, 8)}`);

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.dispose();
});

describe('the command trace', () => {
  it('puts each command under the script call that ran it, by name, and counts plain commands apart', async () => {
    const repository = createTaskRepository({ redis: redis.client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 });
    const trace = await traceCommands(redis.url, async () => {
      for (let i = 0; i < 2; i += 1) {
        await repository.create({ id: randomUUID(), tenant: 't', type: 'SUMMARIZE', content: 'Text.', maxRetries: 1, idempotencyKey: null });
      }
      await redis.client.get(`${keys.prefix}:nothing`);
    });
    expect(trace.tasks).toBe(2);
    const create = trace.calls.find((cost) => cost.name === 'taskCreate')!;
    expect(create.calls).toBe(2);
    // The record, its state index and its tenant's slice, the all-tasks index, the event: at least these.
    expect(create.commands.get('HSET')).toBeGreaterThanOrEqual(2);
    expect(create.commands.get('ZADD')).toBeGreaterThanOrEqual(2 * 4);
    expect(create.commands.get('XADD')).toBe(2);
    expect(create.keysPerCall).toBeGreaterThan(5);
    const plain = trace.calls.find((cost) => cost.name === 'plain commands')!;
    expect(plain.commands.get('GET')).toBe(1);
    expect(commandsPerTask(create, trace.tasks)).toBe(1 + [...create.commands.values()].reduce((a, b) => a + b, 0) / 2);
    expect(describeTrace(trace)[0]).toMatch(/^2 tasks; [\d.]+ commands per task$/);
  });
});
