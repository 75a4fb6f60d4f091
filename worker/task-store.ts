/**
 * The worker's only way to change a task: fenced writes through the shared Lua scripts.
 * A write whose lease token is no longer current changes nothing and is reported as stale.
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner, deleteTask, scriptReply } from '../common/task-script-runner.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { TaskErrorRecord, TaskState, TaskType, TaskUsage } from '../schema/src/task.ts';
import { taskScriptArgs, taskScriptKeys } from '../schema/src/task-scripts.ts';

export type ClaimOutcome =
  | ({ status: 'claimed'; version: number; attempt: number } & ClaimedTask)
  | { status: 'busy'; leaseExpiresAt: number }
  | { status: 'early'; nextAttemptAt: number }
  | { status: 'exhausted' }
  | { status: 'unclaimable'; state: string }
  | { status: 'missing' };

export type WriteOutcome = { status: 'ok'; version: number; nextAttemptAt: number | null } | { status: 'stale'; state: string };

export interface ClaimedTask {
  content: string;
  type: TaskType;
  retryCount: number;
  maxRetries: number;
}

export interface TaskStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  workerId: string;
  leaseMs: number;
  maxEventsPerTask: number;
}

export type TaskStore = ReturnType<typeof createTaskStore>;

export function createTaskStore(options: TaskStoreOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis);
  const common = (taskId: string) => ({
    keys: taskScriptKeys(keys, taskId),
    args: taskScriptArgs(keys, { maxEvents: options.maxEventsPerTask, actor: options.workerId }),
  });

  async function write(
    name: 'taskProgress' | 'taskComplete' | 'taskFail' | 'taskDefer',
    taskId: string,
    extra: (string | number)[],
    extraKeys: readonly string[] = [],
  ): Promise<WriteOutcome> {
    const { keys: scriptKeys, args } = common(taskId);
    const reply = scriptReply(await runScript(name, extraKeys.length ? [...scriptKeys, ...extraKeys] : scriptKeys, [...args, ...extra]));
    return reply.status === 'ok'
      ? { status: 'ok', version: Number(reply.values[0]), nextAttemptAt: reply.values[1] ? Number(reply.values[1]) : null }
      : { status: 'stale', state: reply.values[0] ?? 'UNKNOWN' };
  }

  return {
    /** Takes the task under `leaseToken` for `leaseMs`; counts the attempt. */
    async claim(taskId: string, leaseToken: string): Promise<ClaimOutcome> {
      const { keys: scriptKeys, args } = common(taskId);
      const reply = scriptReply(await runScript('taskClaim', scriptKeys, [...args, leaseToken, options.leaseMs]));
      const [first, second, content, type, retryCount, maxRetries] = reply.values;
      switch (reply.status) {
        case 'claimed':
          return {
            status: 'claimed',
            version: Number(first),
            attempt: Number(second),
            content: content!,
            type: type as TaskType,
            retryCount: Number(retryCount),
            maxRetries: Number(maxRetries),
          };
        case 'busy':
          return { status: 'busy', leaseExpiresAt: Number(first) };
        case 'early':
          return { status: 'early', nextAttemptAt: Number(first) };
        case 'exhausted':
          return { status: 'exhausted' };
        case 'unclaimable':
          return { status: 'unclaimable', state: first ?? 'UNKNOWN' };
        default:
          return { status: 'missing' };
      }
    },

    /** Deletes the task everywhere (retention). */
    remove: (taskId: string) => deleteTask(redis, runScript, keys, taskId, { actor: options.workerId, maxEvents: options.maxEventsPerTask }),

    /** Extends the lease; false when it is no longer held (stop working on the task). */
    async renew(taskId: string, leaseToken: string): Promise<boolean> {
      const { keys: scriptKeys, args } = common(taskId);
      return (await runScript('taskRenew', scriptKeys, [...args, leaseToken, options.leaseMs])) === 1;
    },

    /** Hands the task back at shutdown: the next claim takes it over without counting a stall. */
    async release(taskId: string, leaseToken: string): Promise<boolean> {
      const { keys: scriptKeys, args } = common(taskId);
      return (await runScript('taskRelease', scriptKeys, [...args, leaseToken])) === 1;
    },

    progress: (taskId: string, leaseToken: string, progress: number) =>
      write('taskProgress', taskId, [leaseToken, progress]),

    /**
     * Stores the result. With `job` (bee-queue's keys from `jobFinishKeys` and the job id), the
     * same script finishes that job, whatever the outcome: then mark it with `markJobFinished`.
     */
    complete: (taskId: string, leaseToken: string, result: string, usage: TaskUsage | null, job?: { keys: readonly string[]; id: string }) =>
      write('taskComplete', taskId, [leaseToken, result, usage ? JSON.stringify(usage) : '', ...(job ? [job.id] : [])], job?.keys ?? []),

    /** Back to SCHEDULED for `delayMs` without a provider call: no error, no retry counted. */
    defer: (taskId: string, leaseToken: string, delayMs: number, reason: string) => write('taskDefer', taskId, [leaseToken, delayMs, reason]),

    fail: (
      taskId: string,
      leaseToken: string,
      // The script stamps the error with its time and retry time (from Redis' clock).
      next: { state: Extract<TaskState, 'SCHEDULED' | 'DLQ'>; error: Omit<TaskErrorRecord, 'at' | 'nextAttemptAt'>; retryDelayMs: number | null; reason: string },
    ) =>
      write('taskFail', taskId, [
        leaseToken,
        next.state,
        JSON.stringify(next.error),
        next.retryDelayMs ?? '',
        next.reason,
      ]),
  };
}
