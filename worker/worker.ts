/** createWorker(config, logger) -> { start, stop }: one worker process, usable in-process by tests. */
import type { Logger } from '../common/logger.ts';
import { createRedisClient, parseRedisUrl } from '../common/redis-connection.ts';
import { redisSettingWarnings } from '../common/redis-settings.ts';
import { requireRedisVersion } from '../common/redis-version.ts';
import { retryRatioInForce } from '../schema/src/queue-policy.ts';
import { createRedisKeys, QueueName } from '../schema/src/redis-keys.ts';
import { TaskType, type TaskJobData } from '../schema/src/task.ts';
import { encodeBeeQueueJob } from '../common/bee-queue.ts';
import type { WorkerConfig } from './config.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startLivenessFile } from './liveness.ts';
import { createLocalSummarizer } from './providers/local-summarizer.ts';
import { createNoopProvider } from './providers/noop.ts';
import { createOpenRouterProvider } from './providers/openrouter.ts';
import type { TextProvider } from './providers/provider.ts';
import { circuitCommandHash } from '../schema/src/worker-hashes.ts';
import { Channels, createChannelRouter, routeTo } from '../schema/src/channels.ts';
import { CircuitCommand } from '../schema/src/circuit.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { startProviderStatusChecks } from './provider-status.ts';
import { createHeldRelease } from './held-release.ts';
import { createProviderRateLimiter } from './rate-limiter.ts';
import { createProviderCircuit } from './resilience.ts';
import { createModelBreakers } from './model-breakers.ts';
import { createChainStore } from './chain-store.ts';
import { createRunner } from './runner.ts';
import { startSweeper } from './sweeper.ts';
import { createSummarizeHandler } from './tasks/summarize.ts';
import type { TaskHandler } from './tasks/task-handler.ts';
import { createPriceBook, type PriceBook } from './providers/openrouter-prices.ts';
import { costAt } from './providers/usage-estimate.ts';
import { reconcileGeneration } from './providers/openrouter-usage.ts';
import { createBudgetTenants } from './budget-tenants.ts';
import { createHoldEstimate } from './budget-estimate.ts';
import { createTaskStore } from './task-store.ts';
import { createProviderCallRecorder } from './provider-call-stats.ts';
import type { WorkerTracingFactory } from './tracing/worker-tracing.ts';

/** Model prices: OpenRouter's list when a key is set, else the configured ones alone. */
export function createPrices(config: WorkerConfig, logger?: Logger): PriceBook {
  if (!config.openRouter) {
    const fallback = config.modelPrices.fallback;
    return { priceOf: async (model) => fallback[model] ?? null };
  }
  return createPriceBook({
    baseUrl: config.openRouter.baseUrl,
    apiKey: config.openRouter.apiKey,
    ttlMs: config.modelPrices.ttlMs,
    fallback: config.modelPrices.fallback,
    onError: (error) => logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'model prices not read; using the last list or MODEL_PRICES'),
  });
}

export function createProvider(config: WorkerConfig, prices: PriceBook = createPrices(config)): TextProvider {
  if (config.provider === 'noop') return createNoopProvider();
  return config.openRouter
    ? createOpenRouterProvider({
        ...config.openRouter,
        timeoutMs: config.providerTimeoutMs,
        maxResponseBytes: config.maxResponseBytes,
        reconcileTimeoutMs: config.usageReconcileMs,
        priceOf: prices.priceOf,
      })
    : createLocalSummarizer();
}

export interface WorkerHooks {
  /** Spans for each attempt (worker/tracing); main.ts passes it when tracing is on. */
  tracing?: WorkerTracingFactory | null;
}

export function createWorker(config: WorkerConfig, logger: Logger, hooks: WorkerHooks = {}) {
  const endpoint = parseRedisUrl(config.redisUrl);
  const keys = createRedisKeys(config.redisPrefix);
  // Writes queue while Redis reconnects (a finished task's result is worth waiting for).
  const redis = createRedisClient(endpoint, { name: `atf-worker-${config.workerId}`, failFastWhenDown: false, commandTimeoutMs: 5000 });
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  // Subscribe-only connection: cancel and circuit hints. A missed cancel is caught by the next
  // lease renewal, a missed circuit command by the next heartbeat.
  const subscriber = createRedisClient(endpoint, { name: `atf-worker-${config.workerId}-sub`, failFastWhenDown: false, commandTimeoutMs: 0 });
  subscriber.on('error', (error) => logger.warn({ err: error.message }, 'redis subscriber error'));
  const traced = hooks.tracing?.({ redis, keys }) ?? null;
  const untracedStore = createTaskStore({
    redis,
    keys,
    workerId: config.workerId,
    leaseMs: config.leaseMs,
    maxEventsPerTask: config.taskEventsMax,
    maxOutputBytes: config.output.maxBytes,
    usageLedgerMax: config.usageLedgerMax,
    usageRetentionMs: config.usageRetentionMs,
    // A ticket given back carries no task and no timeout: the task it starts has its own deadline.
    dispatch: { priorityOffsetMs: config.priorityOffsetMs, tokenLimit: config.providerTokenLimit, wakeJob: encodeBeeQueueJob<TaskJobData>({ taskId: '' }) },
  });
  const store = traced ? traced.traceStore(untracedStore) : untracedStore;
  const prices = createPrices(config, logger);
  const budgetTenants = createBudgetTenants({ redis, keys, refreshMs: Math.min(1000, config.budgetRecheckMs) });
  const untracedProvider = createProvider(config, prices);
  const provider = traced
    ? traced.traceProvider(untracedProvider, {
        model: config.openRouter?.model ?? untracedProvider.name,
        providerName: config.openRouter ? 'openrouter' : untracedProvider.name,
        baseUrl: config.openRouter?.baseUrl ?? null,
      })
    : untracedProvider;
  // One handler per type: this does not compile until a new type has one.
  const handlers: Record<TaskType, TaskHandler> = { [TaskType.SUMMARIZE]: createSummarizeHandler(provider, { maxTokens: config.maxCompletionTokens }) };
  // What a budget holds for a call: what the task's type says it sends and may receive, at the
  // price of the dearest model the call names.
  const model = config.openRouter?.model ?? 'local';
  const estimateNano = createHoldEstimate(handlers, (name) => prices.priceOf(name), model);
  let heartbeatRef: ReturnType<typeof startHeartbeat> | null = null;
  // A breaker change is announced at once, not at the next beat.
  const circuit = createProviderCircuit(config.circuit, () => {
    logger.warn({ circuit: circuit.snapshot() }, 'circuit breaker changed');
    void heartbeatRef?.beat().catch(() => undefined);
  });
  // Only a remote provider is rate limited; the embedded summarizer calls nobody.
  const rateLimiter = config.openRouter
    ? createProviderRateLimiter({ redis, keys, logger, defaultLimit: config.providerRateLimit, maxWaitMs: 1000, refreshMs: 5000 })
    : null;
  const holds = createHeldRelease({ redis, keys, store, logger, rateLimiter });
  // The shared breaker of each model (a remote provider's only: the embedded summarizer has none).
  let running = false;
  const modelBreakers = config.openRouter
    ? createModelBreakers({
        redis,
        keys,
        logger,
        settings: config.circuit,
        // A probe holds its lease for as long as its call may take.
        probeLeaseMs: config.providerTimeoutMs + 1000,
        // Tasks held for the breakers go as soon as this worker's probe closed one (an operator's
        // reset releases them through the circuit command).
        onProbeClosed: (closed) => {
          if (!running) return;
          holds
            .releaseCircuitHolds(TransitionReason.RELEASED_MODEL_BREAKER_CLOSED)
            .then((released) => released > 0 && logger.info({ released, model: closed }, 'model breaker closed: held tasks released'))
            .catch((error: Error) => logger.warn({ err: error.message, model: closed }, 'held tasks not released after a model breaker closed'));
        },
      })
    : null;
  let appliedCommandId: string | null = null;
  // The command found at start is not news (`running` is false until then): a worker that starts
  // after a reset must not release tasks other workers' breakers hold now.
  /** Applies an operator's reset/open command it has not applied yet (read from Redis, so none is missed). */
  const applyCircuitCommand = async () => {
    const command = circuitCommandHash.decode(await redis.hgetall(keys.circuitCommand()));
    if (!command || command.id === appliedCommandId) return;
    appliedCommandId = command.id;
    // The API changed the model breakers before it gave the command: read them first, so no task
    // this worker takes after the command meets a model breaker the command closed.
    await modelBreakers?.refresh().catch((error: Error) => logger.warn({ err: error.message }, 'model breakers not read'));
    if (command.action === CircuitCommand.OPEN) circuit.forceOpen();
    else circuit.reset();
    logger.info({ action: command.action, commandId: command.id }, 'circuit command applied');
    // Every worker releases after its own reset (the first takes the entries): a task deferred
    // by a worker whose breaker was still open is taken by that worker's release.
    if (command.action === CircuitCommand.RESET && running) {
      // A failure leaves the tasks to the end of their deferral (or to another worker's release).
      const released = await holds.releaseCircuitHolds().catch((error: Error) => {
        logger.warn({ err: error.message, commandId: command.id }, 'held tasks not released after a breaker reset');
        return 0;
      });
      if (released > 0) logger.info({ released, commandId: command.id }, 'breaker reset: held tasks released');
    }
  };
  // The retry share in force drops as the retry backlog grows; refreshed with each heartbeat.
  let retryRatio = config.retryRatio.retryRatio;
  const refreshRetryRatio = async () => {
    const depth = await redis.llen(keys.beeQueueKey(QueueName.RETRY, 'waiting'));
    retryRatio = retryRatioInForce(depth, config.retryRatio);
  };
  const providerCalls = createProviderCallRecorder({ redis, keys, logger });
  const runner = createRunner({
    endpoint,
    keys,
    store,
    handlers,
    logger,
    workerId: config.workerId,
    concurrency: config.concurrency,
    output: { flushMs: config.output.flushMs, flushChars: config.output.flushChars, maxBytes: config.output.maxBytes },
    model,
    // The chain is a remote provider's: the embedded summarizer has one model of its own.
    ...(config.openRouter ? { models: config.models, contentFilterFallback: config.contentFilterFallback, chainStore: createChainStore({ redis, keys, workerId: config.workerId, maxEventsPerTask: config.taskEventsMax }) } : {}),
    budget: { applies: budgetTenants.has, estimateNano, holdMs: config.providerTimeoutMs + config.usageReconcileMs + 30_000, recheckMs: config.budgetRecheckMs },
    retryRatio: () => retryRatio,
    circuit,
    deferWhileOpenMs: config.circuit.openMs,
    modelBreakers,
    rateLimiter,
    onHeld: holds.onDeferred,
    leaseMs: config.leaseMs,
    stallIntervalMs: config.stallIntervalMs,
    retryDelayScale: config.retryDelayScale,
    retryPolicy: config.retryPolicy,
    onProviderCall: (call) => providerCalls.record(call),
    tracing: traced?.attempts ?? null,
  });
  let heartbeat: ReturnType<typeof startHeartbeat> | null = null;
  let sweeper: ReturnType<typeof startSweeper> | null = null;
  let providerChecks: ReturnType<typeof startProviderStatusChecks> | null = null;
  let liveness: { dispose(): void } | null = null;

  return {
    workerId: config.workerId,
    /** Runs one sweep now (tests). */
    sweep: () => sweeper?.sweep() ?? Promise.resolve(0),
    async start(): Promise<void> {
      await Promise.all([redis.connect(), subscriber.connect()]);
      try {
        // Before any work: an older Redis would fail some of it with "unknown command".
        await requireRedisVersion(redis, (warning) => logger.warn(warning));
      } catch (error) {
        for (const client of [redis, subscriber]) client.disconnect();
        throw error;
      }
      for (const warning of await redisSettingWarnings(redis)) logger.warn(warning);
      const hints = createChannelRouter(
        keys,
        [
          routeTo(Channels.cancel, (taskId) => {
            if (runner.abort(taskId)) logger.info({ taskId }, 'cancel received: aborting attempt');
          }),
          routeTo(Channels.circuit, () => void applyCircuitCommand().catch((error: Error) => logger.warn({ err: error.message }, 'circuit command failed'))),
          routeTo(Channels.modelBreakers, () => modelBreakers?.onHint()),
        ],
        (channel) => logger.warn({ channel }, 'malformed channel message ignored'),
      );
      subscriber.on('message', hints.route);
      await subscriber.subscribe(...hints.names);
      // The latest command holds for workers that start after it (a forced open stays open).
      await applyCircuitCommand();
      await modelBreakers?.refresh();
      running = true;
      await runner.start();
      heartbeat = startHeartbeat({
        redis,
        keys,
        workerId: config.workerId,
        intervalMs: config.heartbeatIntervalMs,
        concurrency: config.concurrency,
        activeTasks: runner.activeTasks,
        status: () => ({ circuit: circuit.snapshot(), circuitCommandId: appliedCommandId }),
        // A command whose hint was missed (a disconnected worker) is found at the next beat.
        onBeat: async () => {
          await refreshRetryRatio();
          await applyCircuitCommand();
        },
        onError: (error) => logger.warn({ err: error.message }, 'heartbeat failed'),
      });
      heartbeatRef = heartbeat;
      providerChecks = startProviderStatusChecks({
        redis,
        keys,
        logger,
        openRouter: config.openRouter,
        keyMissing: config.openRouterKeyMissing,
        intervalMs: config.providerStatusIntervalMs,
        timeoutMs: Math.min(config.providerTimeoutMs, 10_000),
      });
      sweeper = startSweeper({
        redis,
        keys,
        logger,
        intervalMs: config.sweepIntervalMs,
        batchSize: 500,
        retentionMs: config.retentionMs,
        enqueue: (taskId, queue, jobId) => runner.enqueue(taskId, queue, jobId),
        deleteTask: (taskId) => store.remove(taskId),
        sweepDispatch: () => store.sweepDispatch(100),
        orphanCalls: {
          // Past the call's deadline, its reconcile time and a lease: its worker is surely gone.
          afterMs: config.providerTimeoutMs + config.usageReconcileMs + config.leaseMs,
          usageOf: async (generationId, call) =>
            config.openRouter
              ? reconcileGeneration(generationId, call.model, { baseUrl: config.openRouter.baseUrl, apiKey: config.openRouter.apiKey, timeoutMs: config.usageReconcileMs })
              : null,
          // The call's prompt at the model's price: what a call cut off before any answer costs.
          estimate: async (call) => ({
            model: call.model,
            generationId: call.generationId,
            promptTokens: call.promptTokens,
            completionTokens: 0,
            cachedTokens: 0,
            reasoningTokens: 0,
            costUsd: costAt(await prices.priceOf(call.model), call.promptTokens, 0),
            estimated: true,
          }),
          record: (callId, call, usage) =>
            store.recordUsage({ taskId: call.taskId, tenant: call.tenant, token: '' }, call.attempt, usage, call.reservationId, true, callId),
        },
      });
      if (config.livenessFile) {
        liveness = startLivenessFile(config.livenessFile, 5000, (error) => logger.warn({ err: error.message }, 'liveness file not written'));
      }
      if (config.openRouterKeyMissing) logger.warn('OPENROUTER_BASE_URL or OPENROUTER_MODEL is set but OPENROUTER_API_KEY is not: using the embedded summarizer');
      logger.info({ workerId: config.workerId, provider: provider.name, concurrency: config.concurrency }, 'worker started');
    },
    /** Stops taking jobs, lets running tasks finish for `graceMs` (SHUTDOWN_GRACE_MS), then closes. */
    async stop(graceMs = config.shutdownGraceMs): Promise<void> {
      sweeper?.dispose();
      holds.dispose();
      providerChecks?.dispose();
      liveness?.dispose();
      await runner.stop(graceMs);
      await providerCalls.stop();
      await modelBreakers?.stop();
      await heartbeat?.dispose();
      await Promise.all([redis, subscriber].map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
