/**
 * The worker's one write for model chains: a failed attempt moves its task on in its chain
 * (schema/src/scripts/model-chain.ts `taskSwitchModel`), fenced by the attempt's lease like
 * every other write of the task store.
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner } from '../common/task-script-runner.ts';
import { encodeTaskChain, type TaskChain } from '../schema/src/model-chain.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { TaskErrorRecord } from '../schema/src/task.ts';
import type { Lease, WriteOutcome } from './task-store.ts';

export interface ChainSwitch {
  /** The attempt's error (the script stamps its time and the next attempt's). */
  error: Omit<TaskErrorRecord, 'at' | 'nextAttemptAt'>;
  /** How long the task waits (0: a switch that counts no retry goes at once). */
  retryDelayMs: number;
  /** The whole chain has failed once: a retry is counted. */
  countsRetry: boolean;
  /** The task's chain from now on: where its next attempt starts, and why. */
  chain: TaskChain;
  /** The transition's reason when a retry is counted (the error class). */
  reason: string;
}

export type ChainStore = ReturnType<typeof createChainStore>;

export function createChainStore(options: { redis: Redis; keys: RedisKeys; workerId: string; maxEventsPerTask: number }) {
  const runScript = createTaskScriptRunner(options.redis, options.keys);
  const common = { maxEvents: options.maxEventsPerTask, actor: options.workerId };
  return {
    /** Moves the task on in its chain (SCHEDULED); stale when the lease is no longer held. */
    switchModel: (lease: Lease, next: ChainSwitch): Promise<WriteOutcome> =>
      runScript('taskSwitchModel', { taskId: lease.taskId, tenant: lease.tenant }, common, {}, {
        leaseToken: lease.token,
        error: JSON.stringify(next.error),
        retryDelayMs: next.retryDelayMs,
        countRetry: next.countsRetry ? '1' : '0',
        chain: encodeTaskChain(next.chain),
        switchReason: next.chain.switchReason ?? '',
        reason: next.reason,
      }),
  };
}
