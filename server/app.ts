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
import { createFormatError } from './graphql/format-error.ts';
import { createSchema } from './graphql/schema.ts';
import { attachGraphQLWs } from './graphql/ws.ts';
import { createGraphQLHttpHandler } from './http/graphql-http.ts';
import { createHealthRoutes, type Routes } from './http/health-routes.ts';
import { createWorkerRoutes } from './http/worker-routes.ts';
import { sendJson } from './http/respond.ts';
import { createStaticHandler } from './http/static-files.ts';
import { createTaskEventBus } from './infra/task-events.ts';
import { createTaskQueueProducer } from './infra/task-queue.ts';
import { createTaskRepository } from './infra/task-repository.ts';
import { createWorkerRegistry } from './infra/worker-registry.ts';
import { createDeadLetterService } from './services/dead-letter-service.ts';
import { createHealthService } from './services/health-service.ts';
import { createProviderService } from './services/provider-service.ts';
import { createQueueService } from './services/queue-service.ts';
import { createTaskService } from './services/task-service.ts';
import { createWorkerService } from './services/worker-service.ts';

/** Until API keys arrive, every caller is this one tenant. */
const DEFAULT_TENANT = 'default';
/** How long stop() lets running HTTP requests finish before it closes their connections. */
const HTTP_DRAIN_GRACE_MS = 5000;

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
  // R8: durability rests on AOF and no eviction; say so at start when Redis is set otherwise.
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

  const isDevelopment = config.nodeEnv === 'development';
  const formatError = createFormatError({
    exposeInternalErrors: isDevelopment,
    onInternalError: (error) => logger.error({ err: error }, 'unexpected resolver error'),
  });
  const schema = createSchema();
  const provider = createProviderService({
    redis,
    keys,
    events,
    logger,
    coalesceMs: config.queueStatusCoalesceMs,
    resyncIntervalMs: config.subscriptionResyncMs,
  });
  const context = (): GraphQLContext => ({ caller: { tenant: DEFAULT_TENANT }, tasks, queues, deadLetters, workers, provider, logger });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    introspection: isDevelopment,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // Apollo's own handler stops it and re-raises the signal: main.ts owns the shutdown order.
    stopOnTerminationSignals: false,
    // The default landing page loads from a CDN, which offline users cannot reach.
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });

  const httpServer = createServer();
  const routes: Routes = { ...createHealthRoutes(health), ...createWorkerRoutes(workers, config.corsOrigins) };
  const serveStatic = config.clientDistDir ? createStaticHandler(config.clientDistDir) : null;
  let handleGraphQL: ReturnType<typeof createGraphQLHttpHandler> | null = null;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (route) {
      const handler = req.method === 'HEAD' ? route.GET : route[req.method as 'GET' | 'POST'];
      if (handler) return handler(req, res);
      res.setHeader('allow', Object.keys(route).join(', '));
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    if (url.pathname === '/graphql' && handleGraphQL) return handleGraphQL(req, res, url);
    if (serveStatic && (await serveStatic(req, res, url))) return;
    sendJson(res, 404, { error: 'not found' });
  }

  // Set by stop(): keep-alive clients that keep a connection busy would hold close() open
  // forever, so every answer from then on closes its connection.
  let draining = false;
  httpServer.on('request', (req, res) => {
    if (draining) res.setHeader('connection', 'close');
    route(req, res).catch((error) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  let ws: ReturnType<typeof attachGraphQLWs> | null = null;

  /** Connects to Redis (without waiting for it), starts Apollo, listens. Returns the URL. */
  async function start(): Promise<string> {
    // Not awaited: the server comes up even while Redis is down (/live 200, /ready 503).
    for (const client of [redis, subscriber]) client.connect().catch(() => undefined);
    if (config.clientDistDir && !existsSync(join(config.clientDistDir, 'index.html'))) {
      logger.warn({ dir: config.clientDistDir }, 'web client not built: run `npm run build` (npm start does)');
    }
    await apollo.start();
    handleGraphQL = createGraphQLHttpHandler({ apollo, context: async () => context(), maxBodyBytes: config.maxBodyBytes });
    ws = attachGraphQLWs({
      httpServer,
      schema,
      context,
      formatError,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      keepAliveMs: config.wsKeepAliveMs,
      connectionInitWaitTimeoutMs: config.wsInitTimeoutMs,
      allowedOrigins: config.corsOrigins,
      maxSubscriptionsPerConnection: config.wsMaxSubscriptions,
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

  /** Ordered shutdown: not ready, close sockets (1001), drain HTTP, then Redis. */
  async function stop(): Promise<void> {
    health.startDraining();
    queues.dispose();
    workers.dispose();
    provider.dispose();
    draining = true;
    await ws?.dispose();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeIdleConnections();
      // A request still running after the grace is cut off rather than holding the exit.
      setTimeout(() => httpServer.closeAllConnections(), HTTP_DRAIN_GRACE_MS).unref();
    });
    await apollo.stop();
    await queue.close();
    await Promise.all([redis, subscriber].map((client) => client.quit().catch(() => client.disconnect())));
  }

  return { httpServer, start, stop };
}
