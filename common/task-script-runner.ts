/**
 * Runs the task Lua scripts through ioredis' `defineCommand`, which sends EVALSHA and falls
 * back to EVAL on NOSCRIPT, so a Redis restart (empty script cache) heals itself. Callers
 * name keys and arguments and get the script's decoded reply (see schema/src/scripts/).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { TaskType } from '../schema/src/task.ts';
import { lineKeys } from '../schema/src/scripts/dispatch-lines.ts';
import { TASK_SCRIPTS, type TaskScriptName, type TaskScripts } from '../schema/src/scripts/index.ts';
import { taskScriptCall, type TaskScriptCommon } from '../schema/src/scripts/kit/call.ts';
import type { ScriptArgs, ScriptKeys, ScriptReply } from '../schema/src/scripts/kit/define.ts';
import type { TaskScope } from '../schema/src/scripts/kit/shared.ts';

export type TaskScriptRunner = <N extends TaskScriptName>(
  name: N,
  scope: Omit<TaskScope, 'at'>,
  common: TaskScriptCommon,
  keys: ScriptKeys<TaskScripts[N]>,
  args: ScriptArgs<TaskScripts[N]>,
) => Promise<ScriptReply<TaskScripts[N]>>;

/** The tenant a script said the task belongs to (as JSON, before Redis' " script: ..." suffix). */
function wrongTenant(error: unknown): string | null {
  const match = /^WRONGTENANT ("(?:[^"\\]|\\.)*")/.exec(error instanceof Error ? error.message : '');
  return match ? (JSON.parse(match[1]!) as string) : null;
}

/** Registers every task script on `redis` and returns a typed caller. */
export function createTaskScriptRunner(redis: Redis, keys: RedisKeys): TaskScriptRunner {
  for (const [name, script] of Object.entries(TASK_SCRIPTS)) {
    // No numberOfKeys: each call passes its own count (some keys are optional).
    redis.defineCommand(name, { lua: script.lua });
  }
  const command = (name: TaskScriptName) => (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!;

  return async (name, scope, common, scriptKeys, args) => {
    const script = TASK_SCRIPTS[name];
    const run = async (tenant: string) => {
      const call = taskScriptCall(script, keys, { ...scope, tenant, at: Date.now() }, common, scriptKeys, args);
      return script.decode(await command(name).call(redis, call.keys.length, ...call.keys, ...call.args));
    };
    try {
      return (await run(scope.tenant)) as ScriptReply<TaskScripts[typeof name]>;
    } catch (error) {
      // The caller did not know (or mistook) the task's tenant: the script changed nothing and
      // named it, so run again once with the right slices.
      const tenant = wrongTenant(error);
      if (tenant === null || tenant === scope.tenant) throw error;
      return (await run(tenant)) as ScriptReply<TaskScripts[typeof name]>;
    }
  };
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
  common: TaskScriptCommon,
): Promise<boolean> {
  const [tenant, type, idempotencyKey] = await redis.hmget(keys.task(id), 'tenant', 'type', 'idempotencyKey');
  if (!tenant || !type) return false;
  const typeIndex = keys.tasksOfType(type as TaskType);
  const outcome = await runScript(
    'taskDelete',
    { taskId: id, tenant },
    common,
    {
      ids: keys.taskIds(),
      typeIndex,
      tenantTypeIndex: keys.tenantSlice(typeIndex, tenant),
      ...lineKeys(keys),
      ...(idempotencyKey ? { idempotencyEntry: keys.idempotency(tenant, idempotencyKey) } : {}),
    },
    {},
  );
  return outcome.status === 'ok';
}
