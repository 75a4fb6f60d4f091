/**
 * The bee-queue process loop. Jobs only carry a task id: the runner claims the task with a
 * lease, renews it while the handler runs, writes the outcome through the fenced task
 * store, and schedules retries as delayed jobs on the retry queue. Handlers never see
 * bee-queue: they get the content, a logger, a progress callback and an AbortSignal.
 */
import { randomUUID } from 'node:crypto';
import type BeeQueue from 'bee-queue';
import { createBeeQueue, markJobFinished } from '../common/bee-queue.ts';
import type { Logger } from '../common/logger.ts';
import { beeQueueRedisOptions, type RedisEndpoint } from '../common/redis-connection.ts';
import { isProviderError, isRetryableClass, type ScheduledErrorClass } from '../schema/src/errors.ts';
import { holdOf, type Hold } from '../schema/src/holds.ts';
import { jobIds } from '../schema/src/job-ids.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { periodOf } from '../schema/src/scripts/budgets.ts';
import { QueueName, type RedisKeys } from '../schema/src/redis-keys.ts';
import { retryDelayMs, retryLimitFor, type RetryPolicy } from '../schema/src/retry-policy.ts';
import { ErrorClass, TaskState, type TaskJobData, type TaskType } from '../schema/src/task.ts';
import { ModelCallOutcome } from '../schema/src/model-breakers.ts';
import { DispatchLane, type DeferReason } from '../schema/src/dispatch.ts';
import { createWeightedSlots, DispatchClosedError } from './dispatch.ts';
import type { ProviderRateLimiter } from './rate-limiter.ts';
import { isCircuitOpenError, modelOutcomeOf, type ProviderCircuit } from './resilience.ts';
import type { ModelBreakers, ModelCall } from './model-breakers.ts';
import { CircuitState } from '../schema/src/circuit.ts';
import { decodeTaskChain } from '../schema/src/model-chain.ts';
import { attemptChain, nextStep, type AttemptChain } from './model-chain.ts';
import type { ChainStore } from './chain-store.ts';
import type { TaskHandler, TaskOutput } from './tasks/task-handler.ts';
import { Attempt, CancelledError, LeaseLostError, OutputTooLargeError, ShutdownError } from './attempt.ts';
import type { Deferral } from './held-release.ts';
import type { ClaimedTask, FinishedJob, Lease, TaskStore, Ticket } from './task-store.ts';
import type { AttemptTrace, AttemptTracer } from './tracing/types.ts';

export interface RunnerOptions {
  endpoint: RedisEndpoint;
  keys: RedisKeys;
  store: TaskStore;
  handlers: Record<TaskType, TaskHandler>;
  logger: Logger;
  workerId: string;
  /** Tasks run at once, from both queues together. */
  concurrency: number;
  /** How streamed output is appended (OUTPUT_FLUSH_MS, OUTPUT_FLUSH_CHARS) and capped (OUTPUT_MAX_BYTES). */
  output?: { flushMs: number; flushChars: number; maxBytes: number };
  /** Share of slots for the retry queue while both queues have work (the ratio in force). */
  retryRatio: () => number;
  leaseMs: number;
  stallIntervalMs: number;
  retryDelayScale: number;
  /** Retry delays and limits per error class (RETRY_SCHEDULES over the defaults). */
  retryPolicy: RetryPolicy;
  /** Guards the handlers' provider calls; an open circuit defers tasks instead of failing them. */
  circuit: ProviderCircuit;
  /** How long a task waits when the circuit is forced open (no automatic half-open time). */
  deferWhileOpenMs: number;
  /**
   * The shared breakers of each model (worker/model-breakers.ts), for calls to `model`; null for
   * a provider without models (the embedded summarizer). A task whose model is open waits, as
   * for the worker's own breaker.
   */
  modelBreakers?: ModelBreakers | null;
  /** The shared provider rate limit; null for handlers that call no provider. */
  rateLimiter: ProviderRateLimiter | null;
  /**
   * Budgets: what a task's call may cost at most (its reservation), how long a hold lives (a call's
   * deadline), and how soon a task deferred for a spent budget looks again (BUDGET_RECHECK_MS).
   */
  budget?: { estimateNano(task: ClaimedTask, models: readonly string[]): Promise<number>; holdMs: number; recheckMs: number; applies?(tenant: string): Promise<boolean> };
  /** The model provider calls are made with (for usage reconciled after a crash); a chain of one without `models`. */
  model?: string;
  /** The configured model chain (OPENROUTER_MODELS, else OPENROUTER_MODEL), tried in order (worker/model-chain.ts). */
  models?: readonly string[];
  /** OPENROUTER_CONTENT_FILTER_FALLBACK: the model a content-filter refusal goes to at once; null for none. */
  contentFilterFallback?: string | null;
  /** Writes a task's move on in its chain; without it, every failure is an ordinary one. */
  chainStore?: ChainStore | null;
  /** Told how each provider call went: `ok`, the HTTP status, the error class, or `aborted`. */
  onProviderCall?: (call: { status: string; durationMs: number }) => void;
  /**
   * Told of each deferral written for a hold that can end early (schema/src/holds.ts), after its
   * job is queued; `stillHeld` is false when the hold ended here while it was being written.
   */
  onHeld?: (deferral: Deferral, hold: Hold, stillHeld: boolean) => Promise<void>;
  /** Traces each attempt (docs/observability.md); null or absent when tracing is off. */
  tracing?: AttemptTracer | null;
}

const DEFAULT_OUTPUT = { flushMs: 50, flushChars: 256, maxBytes: 1024 * 1024 };

interface Failure {
  errorClass: ScheduledErrorClass;
  message: string;
  httpStatus: number | null;
  retryAfterMs: number | null;
}

function toFailure(error: unknown): Failure {
  if (error instanceof OutputTooLargeError) {
    return { errorClass: ErrorClass.OUTPUT_TOO_LARGE, message: error.message, httpStatus: null, retryAfterMs: null };
  }
  if (isProviderError(error)) {
    return { errorClass: error.errorClass, message: error.message, httpStatus: error.httpStatus, retryAfterMs: error.retryAfterMs };
  }
  // Anything else is our bug or the environment's: retried, but recorded as INTERNAL. Its text
  // (addresses, Redis errors) goes to the worker's log only; the task record is read by tenants.
  return { errorClass: ErrorClass.INTERNAL, message: 'internal error in the worker (details in its log)', httpStatus: null, retryAfterMs: null };
}

export function createRunner(options: RunnerOptions) {
  const { store, logger, workerId } = options;
  const settings = {
    prefix: options.keys.beeQueuePrefix(),
    redis: beeQueueRedisOptions(options.endpoint),
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    // Delayed retries are promoted by bee-queue's atomic script: once each, whichever worker runs it.
    activateDelayedJobs: true,
    // bee-queue waits for the last job due within this of the first (default 1 s, so retries ran up to
    // 1 s late): 50 ms keeps them within about that, for at most 20 promotions a second per worker.
    delayedDebounce: 50,
    removeOnSuccess: true,
    removeOnFailure: true,
    stallInterval: options.stallIntervalMs,
    // First wait after a failed pull (bee-queue doubles it; common/bee-queue.ts caps it).
    initialRedisFailureRetryDelay: 250,
  };
  const scriptOptions = {
    onScriptReload: (script: string) => logger.warn({ script }, 'bee-queue script reloaded after NOSCRIPT'),
  };
  const queues = {
    [QueueName.PRIMARY]: createBeeQueue<TaskJobData>(QueueName.PRIMARY, settings, scriptOptions),
    [QueueName.RETRY]: createBeeQueue<TaskJobData>(QueueName.RETRY, settings, scriptOptions),
  };
  // Jobs are put on the queues through producers of their own, closed only after the consumers:
  // a task handed back or rescheduled during shutdown still gets its job.
  const producerSettings = { ...settings, isWorker: false, activateDelayedJobs: false };
  const producers = {
    [QueueName.PRIMARY]: createBeeQueue<TaskJobData>(QueueName.PRIMARY, producerSettings, scriptOptions),
    [QueueName.RETRY]: createBeeQueue<TaskJobData>(QueueName.RETRY, producerSettings, scriptOptions),
  };
  const finishKeys = (queue: QueueName): FinishedJob['keys'] => ({
    jobActive: options.keys.beeQueueKey(queue, 'active'),
    jobStalling: options.keys.beeQueueKey(queue, 'stalling'),
    jobs: options.keys.beeQueueKey(queue, 'jobs'),
  });
  const running = new Map<string, AbortController>();
  const slots = createWeightedSlots({ slots: options.concurrency, ratio: options.retryRatio });
  let stopping = false;

  for (const [name, queue] of [...Object.entries(queues), ...Object.entries(producers)]) {
    queue.on('error', (error) => logger.warn({ queue: name, err: error.message }, 'queue error'));
  }

  /**
   * Puts a job for the task on `queue`, delayed until `at` (epoch ms) when given. A job that
   * names the task's tenant saves its claim a round trip.
   */
  async function enqueue(taskId: string, queue: QueueName, jobId: string, at?: number, tenant?: string): Promise<void> {
    // A wake-up carries no task: it is only a ticket.
    const job = producers[queue].createJob(tenant ? { taskId, tenant } : { taskId }).setId(jobId);
    if (at !== undefined) job.delayUntil(at);
    await job.save();
  }

  /**
   * A terminal write must not be lost to a short Redis hiccup: the result cost a provider
   * call. Retried with backoff, well inside the lease; after that the lease runs out and
   * the sweeper hands the task to another attempt.
   */
  async function persistently<T>(write: () => Promise<T>, log: Logger): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= 5) throw error;
        log.warn({ err: (error as Error).message, attempt }, 'task write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, Math.max(100, options.leaseMs / 10))));
      }
    }
  }

  async function recordFailure(lease: Lease, attempt: number, task: ClaimedTask, error: unknown, log: Logger) {
    const failure = toFailure(error);
    if (failure.errorClass === ErrorClass.INTERNAL) log.error({ err: error }, 'attempt failed with an internal error');
    const limit = retryLimitFor(failure.errorClass, task.maxRetries, options.retryPolicy);
    const canRetry = isRetryableClass(failure.errorClass) && task.retryCount < limit;
    const delay = canRetry
      ? retryDelayMs(failure.errorClass, task.retryCount + 1, {
          scale: options.retryDelayScale,
          atLeastMs: failure.retryAfterMs ?? 0,
          policy: options.retryPolicy,
        })
      : null;
    if (failure.errorClass === ErrorClass.RATE_LIMIT && failure.retryAfterMs) {
      // The provider asked everyone to wait, not just this call: hold every worker's calls.
      await options.rateLimiter?.pause(failure.retryAfterMs * options.retryDelayScale).catch(() => undefined);
    }
    const { retryAfterMs: _retryAfter, ...record } = failure;
    const outcome = await persistently(() => store.fail(lease, {
      state: delay === null ? TaskState.DLQ : TaskState.SCHEDULED,
      error: { ...record, attempt },
      retryDelayMs: delay,
      reason: failure.errorClass,
    }), log);
    if (outcome.status === 'stale') {
      log.warn({ state: outcome.state }, 'stale lease: failure not recorded');
      return;
    }
    if (outcome.nextAttemptAt === null) {
      log.warn({ errorClass: failure.errorClass, httpStatus: failure.httpStatus }, 'task moved to the dead letter queue');
      return;
    }
    const at = outcome.nextAttemptAt;
    await persistently(() => enqueue(lease.taskId, QueueName.RETRY, jobIds.retry(lease.taskId, attempt), at, lease.tenant), log);
    log.info({ errorClass: failure.errorClass, delayMs: delay }, 'task scheduled for retry');
  }

  /**
   * The provider is known to be down: the task waits for the breaker's probe time without a
   * call, an error or a retry counted, so it cannot drift to the DLQ while the provider heals.
   */
  async function deferWhileOpen(lease: Lease, attempt: number, log: Logger, resetsBefore = options.circuit.resets()): Promise<void> {
    const halfOpenAt = options.circuit.snapshot().halfOpenAt;
    const delayMs = halfOpenAt === null ? options.deferWhileOpenMs : Math.max(0, halfOpenAt - Date.now()) + 50;
    // An operator's reset that came in after the breaker refused would not find this deferral.
    await defer(lease, attempt, delayMs, TransitionReason.CIRCUIT_OPEN, log, () => options.circuit.resets() === resetsBefore);
  }

  /**
   * Every model of the task's chain is open on every worker (their shared breakers): the task
   * waits until one may be tried again, with no call, no error and no retry counted (reason
   * CIRCUIT_OPEN).
   */
  async function deferWhileModelsOpen(breakers: ModelBreakers, models: readonly string[], lease: Lease, attempt: number, log: Logger): Promise<void> {
    const closingsBefore = breakers.closings();
    const until = breakers.allOpenUntil(models) ?? Date.now();
    log.debug({ models }, 'model breakers open: the whole chain');
    // A breaker that closed after it refused would not find this deferral (its release ran already).
    await defer(lease, attempt, Math.max(0, until - Date.now()) + 50, TransitionReason.CIRCUIT_OPEN, log, () => breakers.closings() === closingsBefore);
  }

  /** Back to SCHEDULED for `delayMs` without a provider call, an error or a retry counted. */
  async function defer(lease: Lease, attempt: number, delayMs: number, reason: DeferReason, log: Logger, stillHeld = () => true): Promise<void> {
    const outcome = await persistently(() => store.defer(lease, delayMs, reason), log);
    if (outcome.status === 'stale' || outcome.nextAttemptAt === null) return;
    const at = outcome.nextAttemptAt;
    await persistently(() => enqueue(lease.taskId, QueueName.RETRY, jobIds.retry(lease.taskId, attempt), at, lease.tenant), log);
    log.info({ delayMs, reason }, 'task deferred');
    const hold = holdOf(reason);
    if (hold && options.onHeld) {
      const deferral = { taskId: lease.taskId, tenant: lease.tenant, attempt, due: at };
      await options.onHeld(deferral, hold, stillHeld()).catch((error: Error) => log.warn({ err: error.message }, 'held task not released'));
    }
  }

  /**
   * A free slot's ticket (docs/dispatch.md): the dispatcher claims the best admissible task for
   * it, whichever task the job was queued for; null when nothing may start now. A job that
   * reached its own task under another worker's live lease, or before its retry was due, also
   * leaves a look for when that ends; a ticket parked for a known moment (a lease-held slot or
   * provider tokens freeing up) leaves a wake-up job for that moment.
   */
  async function claim(queue: QueueName, job: BeeQueue.Job<TaskJobData>): Promise<{ lease: Lease; task: ClaimedTask & { capped: boolean } } | null> {
    const { taskId = '', tenant = '', queued } = job.data;
    const ticket: Ticket = { taskId, tenant, lane: queue === QueueName.RETRY ? DispatchLane.RETRY : queued ? '' : DispatchLane.NEW };
    const token = randomUUID();
    const { outcome, note } = await store.dispatch(ticket, token, options.retryRatio());
    if (note?.kind === 'busy') {
      // Delivered twice while another worker holds a live lease: look again when it ends.
      await enqueue(taskId, QueueName.RETRY, jobIds.leaseCheck(taskId, note.until, Date.now()), note.until + 100, tenant);
    } else if (note?.kind === 'early') {
      // A stray job reached a task still waiting out its retry delay: look again when it is due.
      await enqueue(taskId, QueueName.RETRY, jobIds.due(taskId, note.until, Date.now()), note.until + 50, tenant);
    }
    if (outcome.status === 'parked' && outcome.wakeAt !== null) {
      // One wake-up per moment, however many tickets parked for it.
      await enqueue('', QueueName.RETRY, jobIds.wake(outcome.wakeAt), outcome.wakeAt);
    }
    if (outcome.status !== 'claimed') {
      logger.debug({ jobId: job.id, workerId, status: outcome.status }, 'ticket found nothing to start');
      return null;
    }
    // The dispatch returned what the handler needs: no second read of the record.
    return { lease: { taskId: outcome.taskId, tenant: outcome.tenant, token }, task: outcome };
  }

  /**
   * Calls the task's handler behind the breakers (the worker's own, its model's shared one) and
   * the shared rate limit. Null when the task was deferred instead (a breaker open, no rate-limit
   * token, a budget spent): no call, no error, no retry.
   */
  async function execute(attempt: Attempt): Promise<TaskOutput | null> {
    const { lease, task, log } = attempt;
    const breakers = options.modelBreakers ?? null;
    const chain = chainOf(task);
    // An open breaker refuses before a shared rate-limit token is spent on a call that will not happen.
    if (options.circuit.refusesCalls()) {
      await deferWhileOpen(lease, task.attempt, log);
      return null;
    }
    // The models of the chain whose breaker is not open, from the task's place in it.
    const available = chain ? (breakers ? breakers.available(chain.candidates) : chain.candidates) : [];
    if (chain && breakers && available.length === 0) {
      await deferWhileModelsOpen(breakers, chain.candidates, lease, task.attempt, log);
      return null;
    }
    if (chain) attempt.useModels(chain, available);
    // A remote provider's call is written ahead as under way by the token's own script (no extra
    // round trip); one that then does not go (no token, a spent budget, a breaker that just
    // opened, a failed script whose write may have landed) is dropped when the attempt settles.
    // A limiter-less handler calls no billed provider.
    const writeAhead = options.rateLimiter ? attempt.prepareCall() : undefined;
    if (writeAhead) attempt.markWrittenAhead();
    const permit = options.rateLimiter ? await options.rateLimiter.acquire(attempt.signal, writeAhead) : ({ granted: true } as const);
    if (!permit.granted) {
      await defer(lease, task.attempt, permit.waitMs + 10, TransitionReason.RATE_LIMITED, log);
      return null;
    }
    if (!(await reserveBudget(attempt))) return null;
    // Last before the call: at a breaker's probe time this takes the one probe, which nothing may waste.
    const modelCall = chain && breakers ? await acquireFirst(breakers, attempt, chain, available) : null;
    if (chain && breakers && !modelCall) {
      await deferWhileModelsOpen(breakers, chain.candidates, lease, task.attempt, log);
      return null;
    }
    try {
      return await options.circuit.execute(() => callHandler(attempt, modelCall));
    } finally {
      // The worker's own breaker refused it after all: no call was made (a probe's lease ends now).
      modelCall?.record(ModelCallOutcome.OTHER);
    }
  }

  /** The chain the task's attempt runs, or null for a provider without models. */
  function chainOf(task: ClaimedTask): AttemptChain | null {
    const configured = options.models ?? (options.model ? [options.model] : null);
    if (!configured || configured.length === 0) return null;
    return attemptChain(decodeTaskChain(task.chain), configured, options.contentFilterFallback ?? null);
  }

  /**
   * The call's primary: the first available model whose breaker lets the call go (one due a
   * probe goes only as the probe this worker won). The rest of the available models follow it
   * as OpenRouter's fallbacks, but only closed ones: a model due a probe gets exactly one call.
   */
  async function acquireFirst(breakers: ModelBreakers, attempt: Attempt, chain: AttemptChain, available: readonly string[]): Promise<ModelCall | null> {
    for (const [i, model] of available.entries()) {
      const call = await breakers.acquire(model);
      if (!call) continue;
      const fallbacks = available.slice(i + 1).filter((next) => breakers.snapshot(next).state === CircuitState.CLOSED);
      attempt.useModels(chain, [model, ...fallbacks]);
      return call;
    }
    return null;
  }

  /**
   * Tells the breakers how the call went: the primary's outcome, and when OpenRouter answered
   * with a fallback of the list, the primary failed before output (that is when it falls back)
   * and the fallback's outcome is its own.
   */
  function recordModels(attempt: Attempt, modelCall: ModelCall | null, outcome: ModelCallOutcome): void {
    if (!modelCall) return;
    const sent = attempt.chainInUse?.sent ?? [];
    const answered = attempt.answeredModel;
    if (answered !== null && answered !== modelCall.model && sent.includes(answered)) {
      modelCall.record(ModelCallOutcome.FAILED);
      options.modelBreakers?.note(answered, outcome);
      return;
    }
    modelCall.record(outcome);
  }

  /** Runs the task's handler: its outcome goes to the call stats and the model's breaker. */
  async function callHandler(attempt: Attempt, modelCall: ModelCall | null): Promise<TaskOutput> {
    const { lease, task, log } = attempt;
    const startedAt = Date.now();
    const report = (status: string) => options.onProviderCall?.({ status, durationMs: Date.now() - startedAt });
    try {
      const output = await options.handlers[task.type].run({
        taskId: lease.taskId,
        content: task.content,
        attempt: task.attempt,
        signal: attempt.signal,
        logger: log,
        onProgress: attempt.onProgress,
        onText: attempt.onText,
        onUsage: attempt.onUsage,
        onGeneration: attempt.onGeneration,
        onCallStart: attempt.onCallStart,
        onModel: attempt.onModel,
        ...(attempt.chainInUse ? { models: attempt.chainInUse.sent } : {}),
      });
      report('ok');
      recordModels(attempt, modelCall, ModelCallOutcome.OK);
      return output;
    } catch (error) {
      report(attempt.signal.aborted ? 'aborted' : isProviderError(error) ? String(error.httpStatus ?? error.errorClass) : ErrorClass.INTERNAL);
      recordModels(attempt, modelCall, modelOutcomeOf(error, attempt.signal.aborted));
      throw error;
    }
  }

  /**
   * Holds the call's estimated cost against the tenant's budgets. False when a budget is spent:
   * the task then waits (deferred, reason BUDGET, no retry counted) until the limit rises or the
   * period ends; it looks again every `recheckMs`.
   */
  async function reserveBudget(attempt: Attempt): Promise<boolean> {
    const budget = options.budget;
    if (!budget) return true;
    const { lease, task, log } = attempt;
    // A tenant without a budget holds nothing: no script call.
    if (budget.applies && !(await budget.applies(lease.tenant))) return true;
    const id = attempt.plannedReservation;
    const outcome = await store.reserveBudget(lease.tenant, id, await budget.estimateNano(task, attempt.chainInUse?.sent ?? []), budget.holdMs);
    if (outcome.status === 'held') attempt.holdReservation(id);
    if (outcome.status !== 'over') return true;
    const untilNextPeriod = periodOf(outcome.period, Date.now()).end - Date.now();
    await defer(lease, task.attempt, Math.max(10, Math.min(budget.recheckMs, untilNextPeriod)), TransitionReason.BUDGET, log);
    return false;
  }

  /** Stores the result, with the attempt's last output chunk, and finishes `job` in the same script. */
  async function complete(attempt: Attempt, answer: TaskOutput, queue: QueueName, job: BeeQueue.Job<TaskJobData>): Promise<void> {
    await attempt.settle();
    // The job is finished by the same script (one round trip instead of two).
    const finish = { keys: finishKeys(queue), id: job.id };
    const final = attempt.finalOutput(answer.result);
    const outcome = await persistently(() => store.complete(attempt.lease, answer.result, answer.usage, finish, final), attempt.log);
    markJobFinished(job);
    if (outcome.status === 'stale') attempt.log.warn({ state: outcome.state }, 'stale lease: result discarded');
    else attempt.log.debug('task completed');
  }

  /** An attempt that threw: cancelled, lost, deferred, handed back at shutdown, or failed. */
  async function settleFailure(attempt: Attempt, error: unknown): Promise<void> {
    const { lease, task, log } = attempt;
    // Read before the first wait: the breaker refused this attempt under the resets counted now.
    const resetsBefore = options.circuit.resets();
    await attempt.settle();
    const reason = attempt.abortReason;
    if (reason instanceof CancelledError) {
      // The cancel (or delete) already changed the record and dropped our lease.
      log.info('attempt aborted: task cancelled');
    } else if (reason instanceof LeaseLostError) {
      log.warn('lease lost: attempt abandoned');
    } else if (isCircuitOpenError(error)) {
      await deferWhileOpen(lease, task.attempt, log, resetsBefore);
    } else if (isProviderError(error) && error.providerHold && error.retryAfterMs !== null) {
      // OpenRouter's in-flight budget is full for now: every worker holds its calls for the
      // Retry-After, and this task waits it out with no retry counted (docs/operations.md).
      const holdMs = error.retryAfterMs * options.retryDelayScale;
      await options.rateLimiter?.pause(holdMs).catch(() => undefined);
      await defer(lease, task.attempt, holdMs + 10, TransitionReason.PROVIDER_HOLD, log);
    } else if (reason instanceof ShutdownError) {
      // Hand it back and queue its takeover now: another worker resumes it at once, and
      // the interruption costs the task no retry. (No renewal may extend the lease after.)
      attempt.stopRenewal();
      if (await store.release(lease).catch(() => false)) {
        await enqueue(lease.taskId, QueueName.RETRY, jobIds.takeover(lease.taskId, task.attempt), undefined, lease.tenant).catch((failure: Error) =>
          log.warn({ err: failure.message }, 'takeover job not queued; the sweeper will queue it'),
        );
      }
      log.info('attempt aborted by shutdown; task handed back');
    } else {
      const failure = reason instanceof OutputTooLargeError ? reason : error;
      if (!(await switchModel(attempt, failure))) await recordFailure(lease, task.attempt, task, failure, log);
    }
  }

  /**
   * Moves the task on in its model chain when the failure calls for it (worker/model-chain.ts
   * `nextStep`): at once and with no retry counted, or, once the whole chain has failed, after
   * its retry delay with one counted. False when it is an ordinary failure (recordFailure's).
   */
  async function switchModel(attempt: Attempt, error: unknown): Promise<boolean> {
    const { lease, task, log } = attempt;
    const used = attempt.chainInUse;
    if (!used || !options.chainStore || !used.sent[0]) return false;
    const fallback = options.contentFilterFallback ?? null;
    const step = nextStep({ error, attempt: used.chain, answeredModel: attempt.answeredModel, sentTo: used.sent[0], outputBegan: attempt.outputBegan }, fallback);
    if (step.kind === 'fail') return false;
    const failure = toFailure(error);
    let retryDelay = 0;
    if (step.countsRetry) {
      const limit = retryLimitFor(failure.errorClass, task.maxRetries, options.retryPolicy);
      // Out of retries: the ordinary failure sends it to the dead letter queue.
      if (!isRetryableClass(failure.errorClass) || task.retryCount >= limit) return false;
      retryDelay = retryDelayMs(failure.errorClass, task.retryCount + 1, { scale: options.retryDelayScale, atLeastMs: failure.retryAfterMs ?? 0, policy: options.retryPolicy }) ?? 0;
    }
    const { retryAfterMs: _retryAfter, ...record } = failure;
    const position = decodeTaskChain(task.chain);
    const chainStore = options.chainStore;
    const outcome = await persistently(() => chainStore.switchModel(lease, {
      error: { ...record, attempt: task.attempt },
      retryDelayMs: retryDelay,
      countsRetry: step.countsRetry,
      chain: { models: position.models, index: step.index, switchReason: step.reason },
      reason: failure.errorClass,
    }), log);
    if (outcome.status === 'stale' || outcome.nextAttemptAt === null) {
      log.warn({ state: outcome.status === 'stale' ? outcome.state : null }, 'stale lease: model switch not recorded');
      return true;
    }
    const at = outcome.nextAttemptAt;
    await persistently(() => enqueue(lease.taskId, QueueName.RETRY, jobIds.retry(lease.taskId, task.attempt), at, lease.tenant), log);
    log.info({ reason: step.reason, index: step.index, countsRetry: step.countsRetry, answeredModel: attempt.answeredModel }, 'task moves on in its model chain');
    return true;
  }

  /** Runs the task `job` carries: claim, attempt, settle. `queue` is where the job came from. */
  async function run(queue: QueueName, job: BeeQueue.Job<TaskJobData>): Promise<void> {
    const claimed = await claim(queue, job);
    if (!claimed) return;
    const trace = options.tracing ? await options.tracing.start({ ...claimed.task, taskId: claimed.lease.taskId }, queue, claimed.lease.token) : null;
    await runAttempt(queue, job, claimed, trace);
  }

  /** One attempt at the task just claimed; `trace` is its span when tracing is on. */
  async function runAttempt(queue: QueueName, job: BeeQueue.Job<TaskJobData>, claimed: NonNullable<Awaited<ReturnType<typeof claim>>>, trace: AttemptTrace | null): Promise<void> {
    const log = logger.child({ taskId: claimed.lease.taskId, workerId, attempt: claimed.task.attempt, ...trace?.logFields });
    const promptTokens = options.handlers[claimed.task.type].estimate(claimed.task.content).promptTokens;
    const attempt = new Attempt(claimed.lease, claimed.task, log, store, options.leaseMs, options.output ?? DEFAULT_OUTPUT, options.model ?? 'unknown', promptTokens, claimed.task.capped);
    trace?.watch(attempt.signal);
    running.set(claimed.lease.taskId, attempt.controller);
    try {
      // Per-task lines are debug: at info they cost about a fifth of the worker's CPU per task.
      log.debug('task started');
      const answer = await execute(attempt);
      if (answer) await complete(attempt, answer, queue, job);
    } catch (error) {
      await settleFailure(attempt, error);
    } finally {
      await attempt.settle();
      await attempt.releaseReservation();
      attempt.dispose();
      // A capped tenant's slot is free as soon as the attempt is over, not when its lease ends.
      if (attempt.capped) {
        await store.releaseSlot(claimed.lease, claimed.task.attempt).catch((error: Error) => log.warn({ err: error.message }, 'slot not released; it frees when the lease runs out'));
      }
      // A newer attempt of the same task may already run here (after a takeover): keep its handle.
      if (running.get(claimed.lease.taskId) === attempt.controller) running.delete(claimed.lease.taskId);
      trace?.end(attempt.abortReason);
    }
  }

  return {
    async start(): Promise<void> {
      await Promise.all([...Object.values(queues), ...Object.values(producers)].map((queue) => queue.ready()));
      // Each queue pulls one job more than the slots, so when a slot frees the next job of
      // either queue is already waiting and the weighted choice is real, not "whoever's pull
      // came back first". The slots decide which pulled job runs.
      for (const name of [QueueName.PRIMARY, QueueName.RETRY]) {
        queues[name].process(options.concurrency + 1, async (job) => {
          try {
            await slots.run(name, () => run(name, job));
          } catch (error) {
            // Pulled but never started before shutdown: the sweeper queues the task again.
            if (!(error instanceof DispatchClosedError)) throw error;
          }
        });
      }
      // bee-queue only finds stalled jobs when asked to.
      for (const queue of Object.values(queues)) {
        queue.checkStalledJobs(options.stallIntervalMs).catch((error: Error) => logger.warn({ err: error.message }, 'stall check failed'));
      }
    },
    activeTasks: () => running.size,
    enqueue,
    /** Aborts the running attempt of `taskId`, if this worker runs it (cancel, delete). */
    abort(taskId: string): boolean {
      const controller = running.get(taskId);
      controller?.abort(new CancelledError('task cancelled'));
      return controller !== undefined;
    },
    /**
     * Stops taking jobs, lets running tasks finish for up to `graceMs`, then aborts the rest
     * and hands them back (another worker resumes them at once, without counting a retry).
     */
    async stop(graceMs: number): Promise<void> {
      if (stopping) return;
      stopping = true;
      slots.close();
      const abortTimer = setTimeout(() => {
        for (const controller of running.values()) controller.abort(new ShutdownError('worker shutting down'));
      }, graceMs);
      await Promise.all(Object.values(queues).map((queue) => queue.close(graceMs + 2000).catch(() => undefined)));
      clearTimeout(abortTimer);
      await Promise.all(Object.values(producers).map((queue) => queue.close(1000).catch(() => undefined)));
    },
  };
}
