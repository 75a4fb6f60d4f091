/**
 * The worker's only way to change a task: fenced writes through the shared Lua scripts.
 * A write whose lease token is no longer current changes nothing and is reported as stale.
 * After the claim, every write names the task's tenant (the claim returns it).
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner, deleteTask } from '../common/task-script-runner.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { ScheduledErrorClass } from '../schema/src/errors.ts';
import type { TaskErrorRecord, TaskState, TaskUsage } from '../schema/src/task.ts';
import type { TransitionReason } from '../schema/src/transition-reasons.ts';
import type { ClaimOutcome, WriteOutcome } from '../schema/src/scripts/lifecycle.ts';
import type { AppendOutcome } from '../schema/src/scripts/output.ts';
import { budgetKeys, type ReserveOutcome } from '../schema/src/scripts/budgets.ts';
import { NOTE_PENDING_GENERATION, pendingCallCodec, type PendingCall } from '../schema/src/scripts/usage.ts';
import { toNanoUsd, type CallUsage } from '../schema/src/usage.ts';

export type { ClaimedTask, ClaimOutcome, WriteOutcome } from '../schema/src/scripts/lifecycle.ts';

export interface TaskStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  workerId: string;
  leaseMs: number;
  maxEventsPerTask: number;
  /** Cap of the output one attempt may write (OUTPUT_MAX_BYTES). */
  maxOutputBytes?: number;
  /** Entries the usage ledger keeps (USAGE_LEDGER_MAX), and how long hourly usage counters live. */
  usageLedgerMax?: number;
  usageRetentionMs?: number;
}

/** The last output chunk of an attempt: what the result adds to the streamed text, or all of it. */
export interface FinalOutput {
  text: string;
  /** The result does not continue what was streamed: the chunk replaces it. */
  reset: boolean;
  /** The bytes the writer knows it streamed (a stream of another length gets the whole result). */
  streamedBytes: number;
}

/** The task a write is about, and the lease it is fenced by. */
export interface Lease {
  taskId: string;
  tenant: string;
  token: string;
}

/** The bee-queue job that delivered a task, finished by the completion script. */
export interface FinishedJob {
  /** Its queue's bee-queue keys (`RedisKeys.beeQueueKey`). */
  keys: { jobActive: string; jobStalling: string; jobs: string };
  id: string;
}

export type TaskStore = ReturnType<typeof createTaskStore>;

export function createTaskStore(options: TaskStoreOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const common = { maxEvents: options.maxEventsPerTask, actor: options.workerId };
  const scope = (lease: Lease) => ({ taskId: lease.taskId, tenant: lease.tenant });
  redis.defineCommand('atfNotePendingGeneration', { numberOfKeys: 1, lua: NOTE_PENDING_GENERATION });
  const commands = redis as unknown as { atfNotePendingGeneration(pending: string, callId: string, record: string): Promise<number> };

  return {
    /**
     * Takes the task under `leaseToken` for `leaseMs`; counts the attempt. `tenant` is the one
     * its job names, or '' for a job that names none (then the claim takes one more round trip).
     */
    claim: (taskId: string, leaseToken: string, tenant = ''): Promise<ClaimOutcome> =>
      runScript('taskClaim', { taskId, tenant }, common, {}, { leaseToken, leaseMs: options.leaseMs }),

    /** Deletes the task everywhere (retention). */
    remove: (taskId: string) => deleteTask(redis, runScript, keys, taskId, common),

    /** Extends the lease; false when it is no longer held (stop working on the task). */
    renew: (lease: Lease): Promise<boolean> => runScript('taskRenew', scope(lease), common, {}, { leaseToken: lease.token, leaseMs: options.leaseMs }),

    /** Hands the task back at shutdown: the next claim takes it over without counting a stall. */
    release: (lease: Lease): Promise<boolean> => runScript('taskRelease', scope(lease), common, {}, { leaseToken: lease.token }),

    progress: (lease: Lease, progress: number): Promise<WriteOutcome> =>
      runScript('taskProgress', scope(lease), common, {}, { leaseToken: lease.token, progress }),

    /** Appends text to the attempt's output (fenced, capped), after the `expectedBytes` already there. */
    appendOutput: (lease: Lease, text: string, expectedBytes: number): Promise<AppendOutcome> =>
      runScript('taskAppendOutput', scope(lease), common, {}, {
        leaseToken: lease.token,
        text,
        expectedBytes,
        maxBytes: options.maxOutputBytes ?? 1024 * 1024,
      }),

    /**
     * Stores the result, and the attempt's final output chunk (by default the whole result, for
     * an attempt that streamed nothing). With `job`, the same script finishes that job, whatever
     * the outcome: then mark it with `markJobFinished`.
     */
    complete: (lease: Lease, result: string, usage: TaskUsage | null, job?: FinishedJob, final: FinalOutput = { text: result, reset: true, streamedBytes: 0 }): Promise<WriteOutcome> =>
      runScript('taskComplete', scope(lease), common, job?.keys ?? {}, {
        leaseToken: lease.token,
        result,
        usage: usage ? JSON.stringify(usage) : '',
        jobId: job?.id ?? '',
        finalText: final.text,
        finalReset: final.reset ? '1' : '0',
        streamedBytes: final.streamedBytes,
      }),

    /**
     * Records one provider call's usage (billed whatever became of the attempt, so not fenced),
     * and ends its budget reservation. `callId` names the call written ahead as under way; with
     * `wasPending`, nothing is recorded (false) when someone else took it off that list first.
     */
    recordUsage: (lease: Lease, attempt: number, usage: CallUsage, reservationId: string | null, wasPending = false, callId = ''): Promise<boolean> => {
      const now = Date.now();
      return runScript('taskRecordUsage', scope(lease), common, {
        ledger: keys.usageLedger(),
        hour: keys.usageHour(now - (now % 3_600_000)),
        totals: keys.usageTotals(),
        pending: keys.usagePending(),
        ...budgetKeys(keys, lease.tenant, now),
      }, {
        taskId: lease.taskId,
        attempt,
        model: usage.model,
        callId,
        generationId: usage.generationId ?? '',
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        cachedTokens: usage.cachedTokens,
        reasoningTokens: usage.reasoningTokens,
        costNano: toNanoUsd(usage.costUsd),
        estimated: usage.estimated ? '1' : '0',
        reservationId: reservationId ?? '',
        wasPending: wasPending ? '1' : '0',
        ledgerMax: options.usageLedgerMax ?? 1_000_000,
        retentionMs: options.usageRetentionMs ?? 400 * 86_400_000,
      });
    },

    /** Writes a provider call as under way, before its request leaves, so a sweeper reconciles it if this worker dies. */
    registerPendingCall: (callId: string, call: PendingCall): Promise<number> => redis.hset(keys.usagePending(), callId, pendingCallCodec.encode(call)),

    /** Adds the generation id to a call under way (a no-op once the call was recorded). */
    notePendingGeneration: async (callId: string, call: PendingCall): Promise<boolean> =>
      (await commands.atfNotePendingGeneration(keys.usagePending(), callId, pendingCallCodec.encode(call))) === 1,

    /** Forgets a call under way that never left, or that the provider answered with an error status (nothing billed). */
    dropPendingCall: (callId: string): Promise<number> => redis.hdel(keys.usagePending(), callId),

    /** Holds `amountNano` against the tenant's budgets for a call about to start, or says which budget is spent. */
    reserveBudget: (tenant: string, reservationId: string, amountNano: number, ttlMs: number): Promise<ReserveOutcome> =>
      runScript('budgetReserve', { taskId: '', tenant }, common, budgetKeys(keys, tenant, Date.now()), { reservationId, amountNano, ttlMs }),

    /** Ends a reservation whose call did not happen. */
    releaseBudget: (tenant: string, reservationId: string): Promise<boolean> =>
      runScript('budgetRelease', { taskId: '', tenant }, common, { reservations: keys.budgetReservations(tenant), reservationAmounts: keys.budgetReservationAmounts(tenant) }, { reservationId }),

    /** Back to SCHEDULED for `delayMs` without a provider call: no error, no retry counted. */
    defer: (lease: Lease, delayMs: number, reason: TransitionReason): Promise<WriteOutcome> =>
      runScript('taskDefer', scope(lease), common, {}, { leaseToken: lease.token, delayMs, reason }),

    fail: (
      lease: Lease,
      // The script stamps the error with its time and retry time (from Redis' clock).
      next: { state: Extract<TaskState, 'SCHEDULED' | 'DLQ'>; error: Omit<TaskErrorRecord, 'at' | 'nextAttemptAt'>; retryDelayMs: number | null; reason: ScheduledErrorClass },
    ): Promise<WriteOutcome> =>
      runScript('taskFail', scope(lease), common, {}, {
        leaseToken: lease.token,
        nextState: next.state,
        error: JSON.stringify(next.error),
        retryDelayMs: next.retryDelayMs ?? '',
        reason: next.reason,
      }),
  };
}
