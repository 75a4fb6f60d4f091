/**
 * The worker's only way to change a task: fenced writes through the shared Lua scripts.
 * A write whose lease token is no longer current changes nothing and is reported as stale.
 * After the claim, every write names the task's tenant (the claim returns it).
 */
import type { Redis } from 'ioredis';
import { encodeBeeQueueJob } from '../common/bee-queue.ts';
import { createTaskScriptRunner, deleteTask } from '../common/task-script-runner.ts';
import { holdOf, type HeldEntry } from '../schema/src/holds.ts';
import { jobIds } from '../schema/src/job-ids.ts';
import { QueueName, type RedisKeys } from '../schema/src/redis-keys.ts';
import type { ReleaseOutcome } from '../schema/src/scripts/held.ts';
import type { ScheduledErrorClass } from '../schema/src/errors.ts';
import type { TaskErrorRecord, TaskState, TaskUsage } from '../schema/src/task.ts';
import type { ClaimOutcome } from '../schema/src/scripts/claim.ts';
import type { WriteOutcome } from '../schema/src/scripts/lifecycle.ts';
import type { AppendOutcome } from '../schema/src/scripts/output.ts';
import { budgetKeys, type ReserveOutcome } from '../schema/src/scripts/budgets.ts';
import { NOTE_PENDING_GENERATION, pendingCallCodec, type PendingCall } from '../schema/src/scripts/usage.ts';
import { toNanoUsd, type CallUsage } from '../schema/src/usage.ts';
import { lineKeys } from '../schema/src/scripts/dispatch-lines.ts';
import { slotKeys, type DispatchOutcome, type TicketNote } from '../schema/src/scripts/dispatch.ts';
import { DEFER_WAIT_REASON, type DeferReason, type DispatchLane } from '../schema/src/dispatch.ts';
import type { RenewOutcome } from '../schema/src/scripts/lifecycle.ts';
import type { TransitionReason } from '../schema/src/transition-reasons.ts';
import type { RateLimit } from '../schema/src/rate-limit.ts';

export type { ClaimedTask, ClaimOutcome } from '../schema/src/scripts/claim.ts';
export type { WriteOutcome } from '../schema/src/scripts/lifecycle.ts';

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
  /** How the dispatcher picks (docs/dispatch.md); the defaults suit tools and tests. */
  dispatch?: Partial<DispatchSettings>;
}

export interface DispatchSettings {
  /** PRIORITY_OFFSET_MS: how far HIGH and LOW move a task in its tenant's line. */
  priorityOffsetMs: number;
  /** PROVIDER_TOKEN_LIMIT, or null for none. */
  tokenLimit: RateLimit | null;
  /** Tenants a dispatch may pass over (held, or found without work) before it answers `again`. */
  maxPicks: number;
  /** A ticket given back, as a bee-queue job on the primary queue (`encodeBeeQueueJob`). */
  wakeJob: string;
}

const DEFAULT_DISPATCH: DispatchSettings = {
  priorityOffsetMs: 300_000,
  tokenLimit: null,
  maxPicks: 32,
  wakeJob: '{"data":{"taskId":""},"options":{"timestamp":0,"stacktraces":[]},"status":"created"}',
};

/** The ticket a free slot asks the dispatcher with: the job's task (if any) and which line it would join. */
export interface Ticket {
  taskId: string;
  tenant: string;
  /** '' when the task is in its line already (a submit's job), else the line it joins when due. */
  lane: DispatchLane | '';
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

/**
 * A provider call's usage, to record: the attempt's last call, carried by its completion
 * (`complete`), or any call (`recordUsage`).
 */
export interface CarriedCall {
  attempt: number;
  usage: CallUsage;
  /** The budget reservation the call ends, if it holds one. */
  reservationId: string | null;
  /** Written ahead as under way (`callId`): recorded only by whoever takes it off that list first. */
  wasPending: boolean;
  callId: string;
  /**
   * '' or a key of its own (random) for a call nobody wrote ahead that a completion carries: the
   * task keeps it (`usageOnce`), so a completion sent again (a lost reply, a retried write), or
   * recordUsage after a completion that failed, records the call once.
   */
  onceKey: string;
}

export type TaskStore = ReturnType<typeof createTaskStore>;

export function createTaskStore(options: TaskStoreOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const common = { maxEvents: options.maxEventsPerTask, actor: options.workerId };
  const scope = (lease: Lease) => ({ taskId: lease.taskId, tenant: lease.tenant });
  const dispatchSettings = { ...DEFAULT_DISPATCH, ...options.dispatch };
  redis.defineCommand('atfNotePendingGeneration', { numberOfKeys: 1, lua: NOTE_PENDING_GENERATION });
  const commands = redis as unknown as { atfNotePendingGeneration(pending: string, callId: string, record: string): Promise<number> };

  /** The keys a usage record writes (`USAGE_KEYS`), for calls recorded at `now` (the worker's clock picks the hour and the budget periods). */
  const usageKeys = (lease: Lease, now: number) => ({
    ledger: keys.usageLedger(),
    hour: keys.usageHour(now - (now % 3_600_000)),
    totals: keys.usageTotals(),
    pending: keys.usagePending(),
    ...budgetKeys(keys, lease.tenant, now),
  });
  /** The provider token bucket's keys (`USAGE_TOKEN_KEYS`). */
  const tokenKeys = () => ({ dispatchState: keys.dispatchState(), ticketJobs: keys.beeQueueKey('primary', 'jobs'), ticketWaiting: keys.beeQueueKey('primary', 'waiting') });
  /** The arguments of a call's usage (`USAGE_ARGS`); with no call, those of a completion that carries none (`attempt` ''). */
  const usageArgs = (lease: Lease, call: CarriedCall | null) => {
    const usage = call?.usage;
    return {
      taskId: lease.taskId,
      attempt: call?.attempt ?? '',
      model: usage?.model ?? '',
      chainIndex: usage?.chainIndex ?? '',
      switchReason: usage?.switchReason ?? '',
      callId: call?.callId ?? '',
      generationId: usage?.generationId ?? '',
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      cachedTokens: usage?.cachedTokens ?? 0,
      reasoningTokens: usage?.reasoningTokens ?? 0,
      costNano: usage ? toNanoUsd(usage.costUsd) : 0,
      estimated: usage?.estimated ? '1' : '0',
      reservationId: call?.reservationId ?? '',
      wasPending: call?.wasPending ? '1' : '0',
      onceKey: call?.onceKey ?? '',
      ledgerMax: options.usageLedgerMax ?? 1_000_000,
      retentionMs: options.usageRetentionMs ?? 400 * 86_400_000,
      tokenCapacity: dispatchSettings.tokenLimit?.capacity ?? '',
      wakeJob: dispatchSettings.wakeJob,
    };
  };

  return {
    /**
     * Takes the task under `leaseToken` for `leaseMs`; counts the attempt. `tenant` is the one
     * its job names, or '' for a job that names none (then the claim takes one more round trip).
     */
    claim: (taskId: string, leaseToken: string, tenant = ''): Promise<ClaimOutcome> =>
      runScript('taskClaim', { taskId, tenant }, common, lineKeys(keys), { leaseToken, leaseMs: options.leaseMs }),

    /**
     * A free slot's pick (docs/dispatch.md): the ticket's own task joins its line if it is due,
     * then the best admissible task is claimed under `leaseToken`, whichever it is. `retryRatio`
     * is the share of a tenant's turns its retries get while both its lines have work.
     */
    dispatch: (ticket: Ticket, leaseToken: string, retryRatio: number): Promise<{ outcome: DispatchOutcome; note: TicketNote }> =>
      runScript('taskDispatch', { taskId: ticket.taskId, tenant: ticket.tenant }, common, slotKeys(keys), {
        leaseToken,
        leaseMs: options.leaseMs,
        ticketTaskId: ticket.taskId,
        ticketLane: ticket.lane,
        retryRatio,
        priorityOffsetMs: dispatchSettings.priorityOffsetMs,
        tokenCapacity: dispatchSettings.tokenLimit?.capacity ?? '',
        tokenWindowMs: dispatchSettings.tokenLimit?.windowMs ?? '',
        maxPicks: dispatchSettings.maxPicks,
        wakeJob: dispatchSettings.wakeJob,
      }),

    /** A capped tenant's attempt ended: its slot is free now. False when it held none any more. */
    releaseSlot: (lease: Lease, attempt: number): Promise<boolean> =>
      runScript('dispatchRelease', { taskId: '', tenant: lease.tenant }, common, slotKeys(keys), {
        taskId: lease.taskId,
        attempt,
        wakeJob: dispatchSettings.wakeJob,
      }),

    /** Tickets for work that has none, and held tenants whose leases ran out (the sweeper's part). */
    sweepDispatch: (maxTickets: number): Promise<number> =>
      runScript('dispatchSweep', { taskId: '', tenant: '' }, common, {
        ...slotKeys(keys),
        retryWaiting: keys.beeQueueKey('retry', 'waiting'),
        primaryActive: keys.beeQueueKey('primary', 'active'),
        retryActive: keys.beeQueueKey('retry', 'active'),
        activeTasks: keys.tasksInState('ACTIVE'),
      }, {
        maxTickets,
        wakeJob: dispatchSettings.wakeJob,
      }),

    /** Deletes the task everywhere (retention). */
    remove: (taskId: string) => deleteTask(redis, runScript, keys, taskId, common),

    /** Extends the lease (and a capped tenant's slot); not held: stop working on the task. */
    renew: (lease: Lease): Promise<RenewOutcome> =>
      runScript('taskRenew', scope(lease), common, { dispatchState: keys.dispatchState() }, { leaseToken: lease.token, leaseMs: options.leaseMs }),

    /** Hands the task back at shutdown: the next claim takes it over without counting a stall. */
    release: (lease: Lease): Promise<boolean> => runScript('taskRelease', scope(lease), common, {}, { leaseToken: lease.token }),

    progress: (lease: Lease, progress: number): Promise<WriteOutcome> =>
      runScript('taskProgress', scope(lease), common, {}, { leaseToken: lease.token, progress }),

    /** Appends text to the attempt's output (fenced, capped), after the `expectedBytes` already there. */
    appendOutput: (lease: Lease, text: string, expectedBytes: number, model?: string | null): Promise<AppendOutcome> =>
      runScript('taskAppendOutput', scope(lease), common, {}, {
        model: model ?? '',
        leaseToken: lease.token,
        text,
        expectedBytes,
        maxBytes: options.maxOutputBytes ?? 1024 * 1024,
      }),

    /**
     * Stores the result, and the attempt's final output chunk (by default the whole result, for
     * an attempt that streamed nothing). With `job`, the same script finishes that job, whatever
     * the outcome: then mark it with `markJobFinished`. With `call`, the same script records the
     * usage of the attempt's last provider call, whatever the outcome (as `recordUsage` does), and
     * once however often it is sent (`CarriedCall`).
     */
    complete: (lease: Lease, result: string, usage: TaskUsage | null, job?: FinishedJob, final: FinalOutput = { text: result, reset: true, streamedBytes: 0 }, call?: CarriedCall | null): Promise<WriteOutcome> => {
      const now = Date.now();
      return runScript('taskComplete', scope(lease), common, {
        ...usageKeys(lease, now),
        // Always passed (the job's keys are the script's one optional group): `tokenCapacity` says whether they are used.
        ...tokenKeys(),
        ...job?.keys,
      }, {
        leaseToken: lease.token,
        result,
        usage: usage ? JSON.stringify(usage) : '',
        jobId: job?.id ?? '',
        finalText: final.text,
        finalReset: final.reset ? '1' : '0',
        streamedBytes: final.streamedBytes,
        ...usageArgs(lease, call ?? null),
      });
    },

    /**
     * Records one provider call's usage (billed whatever became of the attempt, so not fenced),
     * and ends its budget reservation. `callId` names the call written ahead as under way; with
     * `wasPending`, nothing is recorded (false) when someone else took it off that list first.
     * With `onceKey` (a completion's that carried the call and may have run), nothing is recorded
     * when the task shows that key recorded already.
     */
    recordUsage: (lease: Lease, attempt: number, usage: CallUsage, reservationId: string | null, wasPending = false, callId = '', onceKey = ''): Promise<boolean> => {
      const now = Date.now();
      return runScript('taskRecordUsage', scope(lease), common, {
        ...usageKeys(lease, now),
        // The provider token bucket is corrected by what the call used.
        ...(dispatchSettings.tokenLimit ? tokenKeys() : {}),
      }, usageArgs(lease, { attempt, usage, reservationId, wasPending, callId, onceKey }));
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

    /**
     * Back to SCHEDULED for `delayMs` without a provider call: no error, no retry counted. A
     * deferral for a hold that can end early is indexed under it (schema/src/holds.ts).
     */
    defer: (lease: Lease, delayMs: number, reason: DeferReason): Promise<WriteOutcome> => {
      const hold = holdOf(reason);
      return runScript('taskDefer', scope(lease), common, hold ? { held: keys.tasksHeld(hold) } : {}, {
        leaseToken: lease.token,
        delayMs,
        reason,
        waitReason: DEFER_WAIT_REASON[reason],
      });
    },

    /**
     * Makes a held task due now, with its job waiting, if it is still held by the deferral
     * `held` names (at `attempt`); `reason` says why in its history.
     */
    releaseHold: (held: HeldEntry & { tenant: string; attempt: number }, reason: TransitionReason): Promise<ReleaseOutcome> =>
      runScript('taskReleaseHold', { taskId: held.taskId, tenant: held.tenant }, common, {
        jobs: keys.beeQueueKey(QueueName.RETRY, 'jobs'),
        waiting: keys.beeQueueKey(QueueName.RETRY, 'waiting'),
        delayed: keys.beeQueueKey(QueueName.RETRY, 'delayed'),
      }, {
        attempt: held.attempt,
        due: held.due,
        retryJobId: jobIds.retry(held.taskId, held.attempt),
        releaseJobId: jobIds.released(held.taskId, held.attempt),
        // Like the runner's own jobs: the task's id and tenant, no bee-queue timeout.
        job: encodeBeeQueueJob({ taskId: held.taskId, tenant: held.tenant }, { timeoutMs: 0 }),
        reason,
      }),

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
