/**
 * createApp(config, logger) -> { httpServer, start, stop }. Builds every dependency but
 * runs nothing at import; main.ts and the tests drive the same object.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Logger } from '../common/logger.ts';
import { createRedisClient, parseRedisUrl } from '../common/redis-connection.ts';
import { redisSettingWarnings } from '../common/redis-settings.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import type { ServerConfig } from './config.ts';
import type { GraphQLContext } from './graphql/context.ts';
import type { Backlog } from './services/backlog.ts';
import { createAuthenticator } from './auth/authenticator.ts';
import { createKeyStore } from './auth/key-store.ts';
import type { Caller } from './auth/scopes.ts';
import { withAuthorization } from './graphql/authorize.ts';
import { createFormatError } from './graphql/format-error.ts';
import { operationLimitsRule } from './graphql/limits.ts';
import { resolvers } from './graphql/resolvers.ts';
import { createSchema } from './graphql/schema.ts';
import { submitRateLimitPlugin } from './graphql/submit-rate-limit.ts';
import { attachGraphQLWs } from './graphql/ws.ts';
import { createGraphQLHttpHandler } from './http/graphql-http.ts';
import { createHttpDrain } from './http/drain.ts';
import { createHealthRoutes, type Routes } from './http/health-routes.ts';
import { createMetrics } from './http/metrics.ts';
import { createWorkerRoutes } from './http/worker-routes.ts';
import { isLoopbackHostHeader } from './http/origin.ts';
import { sendJson } from './http/respond.ts';
import { createStaticHandler } from './http/static-files.ts';
import { createTaskEventBus } from './infra/task-events.ts';
import { createTaskQueueProducer } from './infra/task-queue.ts';
import { createTaskRepository } from './infra/task-repository.ts';
import { createWorkerRegistry } from './infra/worker-registry.ts';
import { createAuditService } from './services/audit-service.ts';
import { createDeadLetterService } from './services/dead-letter-service.ts';
import { createFlowService } from './services/flow-service.ts';
import { createHealthService } from './services/health-service.ts';
import { createProviderService } from './services/provider-service.ts';
import { createQueueService } from './services/queue-service.ts';
import { createTaskService } from './services/task-service.ts';
import { createWorkerService } from './services/worker-service.ts';

const GRAPHIQL_PATH = '/graphiql';

export function createApp(config: ServerConfig, logger: Logger) {
  const endpoint = parseRedisUrl(config.redisUrl);
  const keys = createRedisKeys(config.redisPrefix);
  // Fixed roles: commands fail fast while Redis is down; the subscriber only subscribes.
  const redis = createRedisClient(endpoint, { name: 'atf-server', commandTimeoutMs: config.redisCommandTimeoutMs });
  const subscriber = createRedisClient(endpoint, { name: 'atf-server-sub', failFastWhenDown: false, commandTimeoutMs: 0 });
  for (const [role, client] of [['commands', redis], ['subscriber', subscriber]] as const) {
    client.on('error', (error) => logger.warn({ role, err: error.message }, 'redis connection error'));
    client.on('ready', () => logger.info({ role }, 'redis connected'));
  }
  // Durability rests on AOF and no eviction (docs/reliability.md, "Redis must keep what it is
  // given"); say so at start when Redis is set otherwise.
  redis.once('ready', () => {
    redisSettingWarnings(redis).then((warnings) => warnings.forEach((warning) => logger.warn(warning)), () => undefined);
  });

  const repository = createTaskRepository({
    redis,
    keys,
    maxEventsPerTask: config.taskEventsMax,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
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
  const tasks = createTaskService({
    repository,
    queue,
    events,
    logger,
    maxRetries: config.maxRetries,
    maxContentBytes: config.maxContentBytes,
    resyncIntervalMs: config.subscriptionResyncMs,
    maxPageSize: 100,
    subscriberLimits: config.wsSubscriberLimits,
  });
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
    events,
    logger,
    staleMs: config.workerStaleMs,
    commandAckTimeoutMs: Math.min(config.workerStaleMs, 5000),
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });

  const isDevelopment = config.isDevelopment;
  const formatError = createFormatError({
    exposeInternalErrors: isDevelopment,
    hideSchemaDetails: !isDevelopment,
    onInternalError: (error) => logger.error({ err: error }, 'unexpected resolver error'),
  });
  const keyStore = createKeyStore({ redis, keys });
  const authenticator = createAuthenticator({ required: config.auth.required, envKeys: config.auth.envKeys, store: keyStore });
  if (!config.auth.required) {
    logger.warn({ host: config.host }, 'authentication is off: no API keys configured, every caller is the anonymous admin');
  }
  const audit = createAuditService({ redis, keys, maxRecords: config.auditLogMax });
  const schema = createSchema(withAuthorization(resolvers, () => audit, logger));
  const limitsRule = operationLimitsRule(config.graphqlLimits);
  const provider = createProviderService({
    redis,
    keys,
    events,
    logger,
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });
  const flow = createFlowService({
    redis,
    keys,
    events,
    logger,
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });
  // One object literal of a fixed shape, built per request and per subscription.
  const context = (caller: Caller, backlog?: Backlog): GraphQLContext => ({
    caller,
    tasks,
    queues,
    deadLetters,
    workers,
    provider,
    flow,
    audit,
    authenticationRequired: config.auth.required,
    logger,
    backlog,
  });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    introspection: isDevelopment,
    hideSchemaDetailsFromClientErrors: !isDevelopment,
    validationRules: [limitsRule],
    parseOptions: { maxTokens: config.graphqlLimits.maxTokens },
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // Apollo's own handler stops it and re-raises the signal: main.ts owns the shutdown order.
    stopOnTerminationSignals: false,
    plugins: [
      // The default landing page loads from a CDN, which offline users cannot reach: /graphiql is bundled.
      ApolloServerPluginLandingPageDisabled(),
      ...(config.auth.submitRateLimit
        ? [submitRateLimitPlugin({ redis, keys, limit: config.auth.submitRateLimit, graphqlLimits: config.graphqlLimits })]
        : []),
    ],
  });

  const httpServer = createServer();
  // Registered before the request handler: counts every request, for the shutdown drain.
  const httpDrain = createHttpDrain(httpServer);
  let ws: ReturnType<typeof attachGraphQLWs> | null = null;
  const metrics = createMetrics({ redis, keys, queues, workers, webSocketCounts: () => ws?.counts() ?? { connections: 0, subscriptions: 0 } });
  const routes: Routes = {
    ...createHealthRoutes(health),
    ...createWorkerRoutes({ workers, authenticator, audit, allowedOrigins: config.corsOrigins, logger }),
    '/metrics': { GET: metrics.handle },
  };
  const serveStatic = config.clientDistDir ? createStaticHandler(config.clientDistDir) : null;
  const serveGraphiQL = config.graphiqlDistDir ? createStaticHandler(config.graphiqlDistDir) : null;
  let handleGraphQL: ReturnType<typeof createGraphQLHttpHandler> | null = null;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (config.auth.loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      return sendJson(res, 403, { error: 'authentication is off: this server answers only requests addressed to localhost' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (route) {
      const handler = req.method === 'HEAD' ? route.GET : route[req.method as 'GET' | 'POST'];
      if (handler) return handler(req, res);
      res.setHeader('allow', Object.keys(route).join(', '));
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    if (url.pathname === '/graphql' && handleGraphQL) return handleGraphQL(req, res, url);
    if (serveGraphiQL && (url.pathname === GRAPHIQL_PATH || url.pathname.startsWith(`${GRAPHIQL_PATH}/`))) {
      const inner = new URL(url.pathname.slice(GRAPHIQL_PATH.length) || '/', url);
      if (await serveGraphiQL(req, res, inner)) return;
    }
    if (serveStatic && (await serveStatic(req, res, url))) return;
    sendJson(res, 404, { error: 'not found' });
  }

  httpServer.on('request', (req, res) => {
    route(req, res).catch((error) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  /** Connects to Redis (without waiting for it), starts Apollo, listens. Returns the URL. */
  async function start(): Promise<string> {
    // Not awaited: the server comes up even while Redis is down (/live 200, /ready 503).
    for (const client of [redis, subscriber]) client.connect().catch(() => undefined);
    if (config.clientDistDir && !existsSync(join(config.clientDistDir, 'index.html'))) {
      logger.warn({ dir: config.clientDistDir }, 'web client not built: run `npm run build` (npm start does)');
    }
    await apollo.start();
    if (config.graphiqlDistDir && !existsSync(join(config.graphiqlDistDir, 'index.html'))) {
      logger.warn({ dir: config.graphiqlDistDir }, 'GraphiQL not built: run `npm run build`');
    }
    handleGraphQL = createGraphQLHttpHandler({ apollo, authenticator, context, maxBodyBytes: config.maxBodyBytes });
    ws = attachGraphQLWs({
      httpServer,
      schema,
      authenticator,
      context,
      formatError,
      validationRules: [limitsRule],
      introspection: isDevelopment,
      maxTokens: config.graphqlLimits.maxTokens,
      maxConnectionsPerKey: config.auth.wsMaxConnectionsPerKey,
      reauthenticateMs: config.auth.wsReauthenticateMs,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      keepAliveMs: config.wsKeepAliveMs,
      connectionInitWaitTimeoutMs: config.wsInitTimeoutMs,
      allowedOrigins: config.corsOrigins,
      requireLoopbackHost: config.auth.loopbackOnly,
      maxSubscriptionsPerConnection: config.wsMaxSubscriptions,
      subscriberLimits: config.wsSubscriberLimits,
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  }

  /**
   * Ordered shutdown (SIGTERM): /ready answers 503 at once and the server keeps serving for
   * SHUTDOWN_DELAY_MS (load balancers take it out); then it stops accepting connections and
   * lets in-flight HTTP requests finish within SHUTDOWN_GRACE_MS; then every WebSocket gets
   * close code 1001 (clients reconnect to another instance); then Redis connections close.
   */
  async function stop(): Promise<void> {
    health.startDraining();
    logger.info({ delayMs: config.shutdownDelayMs }, 'shutdown: not ready');
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    const closed = new Promise<void>((resolve) => httpServer.once('close', () => resolve()));
    const wasListening = httpServer.listening;
    const drained = await httpDrain.drain(config.shutdownGraceMs);
    logger.info({ drained, abandoned: httpDrain.inFlight() }, 'shutdown: http drained');
    await closeWebSockets();
    logger.info('shutdown: websockets closed');
    httpServer.closeAllConnections();
    if (wasListening) await closed;
    queues.dispose();
    workers.dispose();
    provider.dispose();
    flow.dispose();
    await apollo.stop();
    await queue.close();
    await Promise.all([redis, subscriber].map((client) => client.quit().catch(() => client.disconnect())));
    logger.info('shutdown: redis closed');
  }

  /** 1001 to every socket; one that does not finish the closing handshake in time is cut. */
  async function closeWebSockets(): Promise<void> {
    if (!ws) return;
    const sockets = ws.wss.clients;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, Math.max(1000, Math.min(config.shutdownGraceMs, 5000))).unref());
    await Promise.race([ws.dispose(), timeout]);
    for (const socket of sockets) socket.terminate();
  }

  return { httpServer, start, stop };
}
