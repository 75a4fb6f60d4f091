/**
 * The server's dependency graph: Redis connections with fixed roles, the repository, queue
 * producer and event bus, the services, authentication, the schema and the GraphQL context.
 * Builds objects only; nothing connects or listens until `createApp`'s `start()`.
 */
import type { Logger } from '../common/logger.ts';
import { createRedisClient, parseRedisUrl } from '../common/redis-connection.ts';
import { redisSettingWarnings } from '../common/redis-settings.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import type { ServerConfig } from './config.ts';
import type { GraphQLContext, SubscriptionScope } from './graphql/context.ts';
import { createAuthenticator } from './auth/authenticator.ts';
import { createKeyStore } from './auth/key-store.ts';
import type { Caller } from './auth/scopes.ts';
import { withAuthorization } from './graphql/authorize.ts';
import { createFormatError } from './graphql/format-error.ts';
import { IntrospectionPolicy } from './graphql/introspection.ts';
import { operationLimitsRule } from './graphql/limits.ts';
import { resolvers } from './graphql/resolvers.ts';
import { createSchema } from './graphql/schema.ts';
import { createTaskEventBus } from './infra/task-events.ts';
import { createTaskQueueProducer } from './infra/task-queue.ts';
import { createTaskRepository } from './infra/task-repository.ts';
import { createWorkerRegistry } from './infra/worker-registry.ts';
import { createModelBreakerStore } from './infra/model-breaker-store.ts';
import { createAuditService } from './services/audit-service.ts';
import { createDeadLetterService } from './services/dead-letter-service.ts';
import { createFlowService } from './services/flow-service.ts';
import { createHealthService } from './services/health-service.ts';
import { createProviderService } from './services/provider-service.ts';
import { createQueueService } from './services/queue-service.ts';
import { createTaskService } from './services/task-service.ts';
import { SubscriberTooSlowError } from './services/async-queue.ts';
import { createOutputService } from './services/output-service.ts';
import { createOutputReader } from './infra/output-reader.ts';
import { createUsageService } from './services/usage-service.ts';
import { createUsageStore } from './infra/usage-store.ts';
import { createWorkerService } from './services/worker-service.ts';
import { createDispatchStore } from './infra/dispatch-store.ts';
import { createDispatchService } from './services/dispatch-service.ts';
import { createStartRate } from './services/start-rate.ts';
import { createTaskStandings } from './services/task-standings.ts';
import { createTenantActivity } from './services/tenant-activity.ts';
import type { RequestTrace, ServerTracing } from './tracing/server-tracing.ts';

export type ServerDependencies = ReturnType<typeof createDependencies>;

/** `tracing` (server/tracing) when tracing is on: submits get their spans. */
export function createDependencies(config: ServerConfig, logger: Logger, tracing: ServerTracing | null = null) {
  const endpoint = parseRedisUrl(config.redisUrl);
  const keys = createRedisKeys(config.redisPrefix);
  // Fixed roles: commands fail fast while Redis is down; the subscriber only subscribes.
  const redis = createRedisClient(endpoint, { name: 'atf-server', commandTimeoutMs: config.redisCommandTimeoutMs });
  const subscriber = createRedisClient(endpoint, { name: 'atf-server-sub', failFastWhenDown: false, commandTimeoutMs: 0 });
  for (const [role, client] of [['commands', redis], ['subscriber', subscriber]] as const) {
    client.on('error', (error) => logger.warn({ role, err: error.message }, 'redis connection error'));
    client.on('ready', () => logger.info({ role }, 'redis connected'));
  }
  let redisAccepted = false;
  /**
   * Run by app.ts once a connection is to a Redis known to be new enough (common/redis-version.ts),
   * the first time only. Durability rests on AOF and no eviction (docs/reliability.md, "Redis
   * must keep what it is given"): say so when Redis is set otherwise.
   */
  const onRedisAccepted = () => {
    if (redisAccepted) return;
    redisAccepted = true;
    redisSettingWarnings(redis).then((warnings) => warnings.forEach((warning) => logger.warn(warning)), () => undefined);
    repository.backfillTypeIndex().then(
      (slices) => slices !== null && logger.info({ slices }, 'per-type task index filled from the tasks stored before it'),
      (error: Error) => logger.warn({ err: error.message }, 'per-type task index not filled; listing by type may miss older tasks'),
    );
  };

  const repository = createTaskRepository({
    redis,
    keys,
    maxEventsPerTask: config.taskEventsMax,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    priorityOffsetMs: config.priorityOffsetMs,
  });
  const queue = createTaskQueueProducer({
    endpoint,
    keys,
    jobTimeoutMs: config.jobTimeoutMs,
    enqueueTimeoutMs: config.redisCommandTimeoutMs,
    onScriptReload: (script) => logger.warn({ script }, 'bee-queue script reloaded after NOSCRIPT'),
  });
  queue.onError((error) => logger.warn({ err: error.message }, 'queue connection error'));
  const events = createTaskEventBus({
    keys,
    publisher: redis,
    subscriber,
    onMalformedMessage: (channel) => logger.warn({ channel }, 'malformed task event ignored'),
  });
  const dispatchStore = createDispatchStore({ redis, keys, retryRatio: config.retryRatio.retryRatio, positionMaxSteps: config.dispatch.positionMaxSteps });
  const standings = createTaskStandings({
    positions: dispatchStore.positions,
    listen: (onHint) => events.onAnyTaskRaw(onHint),
    refreshMs: config.dispatch.standingRefreshMs,
    resyncMs: config.subscriptionResyncMs,
    logger,
  });
  const tasks = createTaskService({
    repository,
    queue,
    events,
    logger,
    maxRetries: config.maxRetries,
    maxContentBytes: config.maxContentBytes,
    allowedModels: config.allowedModels,
    maxCompletionTokens: config.maxCompletionTokens,
    resyncIntervalMs: config.subscriptionResyncMs,
    maxPageSize: 100,
    subscriberLimits: config.wsSubscriberLimits,
    standings,
    contentCacheBytes: config.taskContentCacheBytes,
    tracing,
  });
  const outputs = createOutputService({
    reader: createOutputReader(redis, keys),
    events,
    tasks,
    logger,
    resyncIntervalMs: config.subscriptionResyncMs,
    subscriberLimits: config.wsSubscriberLimits,
  });
  const usage = createUsageService({ store: createUsageStore(redis, keys), reads: tasks });
  const deadLetters = createDeadLetterService({ repository, queue, tasks, batchSize: 100 });
  const queues = createQueueService({
    repository,
    queue,
    events,
    logger,
    retryRatio: config.retryRatio,
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });
  const registry = createWorkerRegistry({ redis, keys });
  const health = createHealthService({
    redis,
    queue,
    workers: registry,
    workerStaleMs: config.workerStaleMs,
    probeTimeoutMs: 1000,
  });
  const workers = createWorkerService({
    registry,
    modelBreakers: createModelBreakerStore({ redis, keys, models: config.models, windowMs: config.circuitWindowMs }),
    events,
    logger,
    staleMs: config.workerStaleMs,
    commandAckTimeoutMs: Math.min(config.workerStaleMs, 5000),
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });

  const formatError = createFormatError({
    exposeInternalErrors: config.isDevelopment,
    hideSchemaDetails: config.introspection !== IntrospectionPolicy.ON,
    // A subscriber that fell behind is a designed end (its socket closes with 4480), not a fault.
    onInternalError: (error) =>
      error instanceof SubscriberTooSlowError ? logger.debug({ err: error.message }, 'subscriber fell behind') : logger.error({ err: error }, 'unexpected resolver error'),
  });
  const keyStore = createKeyStore({ redis, keys });
  const authenticator = createAuthenticator({ required: config.auth.required, envKeys: config.auth.envKeys, store: keyStore });
  if (!config.auth.required) {
    logger.warn({ host: config.host }, 'authentication is off: no API keys configured, every caller is the anonymous admin');
  }
  const audit = createAuditService({ redis, keys, maxRecords: config.auditLogMax });
  const schema = createSchema(withAuthorization(resolvers, () => audit, logger));
  const limitsRule = operationLimitsRule(config.graphqlLimits);
  // The live views on Redis state take the same feed settings.
  const liveView = { redis, keys, events, logger, coalesceMs: config.queueStatusCoalesceMs, resyncIntervalMs: config.subscriptionResyncMs };
  const provider = createProviderService(liveView);
  const flow = createFlowService(liveView);
  const dispatch = createDispatchService({
    store: dispatchStore,
    standings,
    startRate: createStartRate({ listen: (onMessage) => events.onAnyTaskRaw(onMessage), flow: (minutes) => flow.flow(minutes), windowMs: config.dispatch.startRateWindowMs, logger }),
    activity: createTenantActivity({ read: dispatchStore.stats, sampleMs: config.dispatch.activitySampleMs, logger }),
    repository,
    reads: tasks,
    subscriberLimits: config.wsSubscriberLimits,
    logger,
  });
  // One object literal of a fixed shape, built per request and per subscription.
  const context = (caller: Caller, subscription?: SubscriptionScope, requestTrace: RequestTrace | null = null): GraphQLContext => ({
    caller,
    tasks,
    outputs,
    usage,
    queues,
    deadLetters,
    workers,
    provider,
    flow,
    audit,
    dispatch,
    authenticationRequired: config.auth.required,
    traceUrlTemplate: config.traceUrlTemplate,
    logger,
    requestTrace,
    backlog: subscription?.backlog,
    prefetchContent: subscription?.prefetchContent,
  });

  return { tracing, keys, redis, subscriber, onRedisAccepted, queue, tasks, queues, health, workers, provider, flow, dispatch, audit, authenticator, formatError, schema, limitsRule, context };
}
