/**
 * Runs the shared task Lua scripts through ioredis' `defineCommand`, which sends EVALSHA
 * and falls back to EVAL on NOSCRIPT, so a Redis restart (empty script cache) heals itself.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { TASK_SCRIPTS, taskScriptArgs, taskScriptKeys, type TaskScriptName } from '../schema/src/task-scripts.ts';

export type TaskScriptRunner = (
  name: TaskScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/** Registers every task script on `redis` and returns a typed caller. */
export function createTaskScriptRunner(redis: Redis): TaskScriptRunner {
  for (const [name, lua] of Object.entries(TASK_SCRIPTS)) {
    // No numberOfKeys: each call passes its own count (create takes an optional key).
    redis.defineCommand(name, { lua });
  }
  return (name, keys, args) => {
    const command = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!;
    return command.call(redis, keys.length, ...keys, ...args);
  };
}

/** Reads a script's `{status, ...values}` reply. */
export function scriptReply(reply: unknown): { status: string; values: string[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
    throw new Error('unexpected task script reply');
  }
  return { status: reply[0], values: reply.slice(1).map(String) };
}

/**
 * Deletes a task everywhere through the `taskDelete` script (the operator's delete and the
 * retention sweep share it). Returns false when there was no such task.
 */
export async function deleteTask(
  redis: Redis,
  runScript: TaskScriptRunner,
  keys: RedisKeys,
  id: string,
  options: { actor: string; maxEvents: number },
): Promise<boolean> {
  const [tenant, idempotencyKey] = await redis.hmget(keys.task(id), 'tenant', 'idempotencyKey');
  const scriptKeys = [...taskScriptKeys(keys, id), keys.taskIds()];
  if (tenant && idempotencyKey) scriptKeys.push(keys.idempotency(tenant, idempotencyKey));
  const reply = scriptReply(
    await runScript('taskDelete', scriptKeys, [...taskScriptArgs(keys, { maxEvents: options.maxEvents, actor: options.actor }), keys.cancelChannel()]),
  );
  return reply.status === 'ok';
}
