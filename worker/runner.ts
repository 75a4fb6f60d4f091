/**
 * The bee-queue process loop. Jobs only carry a task id: the runner claims the task with a
 * lease, renews it while the handler runs, writes the outcome through the fenced task
 * store, and schedules retries as delayed jobs on the retry queue. Handlers never see
 * bee-queue: they get the content, a logger, a progress callback and an AbortSignal.
 *
 * The attempt's provider call and the checks before it are worker/guarded-call.ts's; how an
 * attempt that threw is settled (deferred, handed back, failed) is worker/attempt-settlement.ts's;
 * its models are worker/model-routing.ts's.
 */
import { randomUUID } from 'node:crypto';
import type BeeQueue from 'bee-queue';
import { createBeeQueue, markJobFinished } from '../common/bee-queue.ts';
import type { Logger } from '../common/logger.ts';
import { beeQueueRedisOptions } from '../common/redis-connection.ts';
import { jobIds } from '../schema/src/job-ids.ts';
import { QueueName } from '../schema/src/redis-keys.ts';
import type { TaskJobData } from '../schema/src/task.ts';
import { DispatchLane } from '../schema/src/dispatch.ts';
import { createWeightedSlots, DispatchClosedError } from './dispatch.ts';
import type { TaskOutput } from './tasks/task-handler.ts';
import { Attempt, CancelledError, ShutdownError } from './attempt.ts';
import { createSettlement } from './attempt-settlement.ts';
import { createGuardedCall } from './guarded-call.ts';
import { createModelRouting } from './model-routing.ts';
import type { RunnerOptions, RunnerWrites } from './runner-options.ts';
import type { ClaimedTask, FinishedJob, Lease, Ticket } from './task-store.ts';
import type { AttemptTrace } from './tracing/types.ts';

export type { RunnerOptions } from './runner-options.ts';

const DEFAULT_OUTPUT = { flushMs: 50, flushChars: 256, maxBytes: 1024 * 1024 };

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

  /** Queues the retry job of the task's `attempt` for `at`, as persistently as the write that set `at`. */
  async function queueRetry(lease: Lease, attempt: number, at: number, log: Logger): Promise<void> {
    await persistently(() => enqueue(lease.taskId, QueueName.RETRY, jobIds.retry(lease.taskId, attempt), at, lease.tenant), log);
  }

  const writes: RunnerWrites = { store, persistently, enqueue, queueRetry };
  const routing = createModelRouting(options, writes);
  const settlement = createSettlement(options, writes, routing.switchModel);
  const { execute } = createGuardedCall(options, { store, routing, settlement });

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
   * Stores the result, with the attempt's last output chunk and its last call's usage, and
   * finishes `job` in the same script.
   */
  async function complete(attempt: Attempt, answer: TaskOutput, queue: QueueName, job: BeeQueue.Job<TaskJobData>): Promise<void> {
    // Taken before settle(), which would send it on its own: the completion carries it (the
    // earlier calls' records, which settle() waits for, go first).
    const call = attempt.takeUsage();
    await attempt.settle();
    // The job is finished by the same script (one round trip instead of two).
    const finish = { keys: finishKeys(queue), id: job.id };
    const final = attempt.finalOutput(answer.result);
    let outcome;
    try {
      // Sent again after a failure that may have run it: the script records the call once (its
      // pending record, or its once key).
      outcome = await persistently(() => store.complete(attempt.lease, answer.result, answer.usage, finish, final, call), attempt.log);
    } catch (error) {
      // Not completed (as far as this worker knows): the usage goes the way of every attempt that
      // did not complete, recorded once all the same.
      if (call) attempt.restoreUsage(call);
      throw error;
    }
    markJobFinished(job);
    if (outcome.status === 'stale') attempt.log.warn({ state: outcome.state }, 'stale lease: result discarded');
    else attempt.log.debug('task completed');
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
      await settlement.settleFailure(attempt, error);
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
