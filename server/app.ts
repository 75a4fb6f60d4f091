/**
 * createApp(config, logger) -> { httpServer, start, stop }: Apollo, the HTTP server and its
 * router, graphql-ws, and the lifecycle (start, the ordered stop). The dependencies come from
 * wiring.ts; nothing runs at import, and main.ts and the tests drive the same object.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Logger } from '../common/logger.ts';
import { requireRedisVersion } from '../common/redis-version.ts';
import type { ServerConfig } from './config.ts';
import { createDependencies } from './wiring.ts';
import type { GraphQLContext } from './graphql/context.ts';
import { introspectionPolicyPlugin, IntrospectionPolicy } from './graphql/introspection.ts';
import { submitRateLimitPlugin } from './graphql/submit-rate-limit.ts';
import { attachGraphQLWs } from './graphql/ws.ts';
import { createGraphQLHttpHandler } from './http/graphql-http.ts';
import { createHttpDrain } from './http/drain.ts';
import { createHealthRoutes, type Routes } from './http/health-routes.ts';
import { createMetrics } from './http/metrics.ts';
import { createWorkerRoutes } from './http/worker-routes.ts';
import { sendJson } from './http/respond.ts';
import { createStaticHandler } from './http/static-files.ts';
import { createRouter } from './http/router.ts';
import type { ServerTracing } from './tracing/server-tracing.ts';

export interface AppHooks {
  /**
   * Told when the server can no longer run after it started: a Redis that was down at start
   * came up too old (RedisVersionError). main.ts logs it and exits 1; by default it is logged.
   */
  onFatal?(error: Error): void;
  /** Spans for requests that submit tasks (server/tracing); main.ts passes it when tracing is on. */
  tracing?: ServerTracing | null;
}

export function createApp(config: ServerConfig, logger: Logger, hooks: AppHooks = {}) {
  const { tracing, keys, redis, subscriber, onRedisAccepted, queue, queues, health, workers, provider, flow, dispatch, audit, authenticator, formatError, schema, limitsRule, context } =
    createDependencies(config, logger, hooks.tracing ?? null);
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    // Apollo's switch is for everyone at once; introspectionPolicyPlugin decides per caller.
    introspection: true,
    hideSchemaDetailsFromClientErrors: config.introspection !== IntrospectionPolicy.ON,
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
      introspectionPolicyPlugin(config.introspection),
      ...(config.auth.submitRateLimit
        ? [submitRateLimitPlugin({ redis, keys, limit: config.auth.submitRateLimit, graphqlLimits: config.graphqlLimits })]
        : []),
    ],
  });

  const httpServer = createServer();
  // Registered before the request handler: counts every request, for the shutdown drain.
  const httpDrain = createHttpDrain(httpServer);
  let ws: ReturnType<typeof attachGraphQLWs> | null = null;
  const metrics = createMetrics({ redis, keys, queues, workers, webSocketCounts: () => ws?.counts() ?? { connections: 0, subscriptions: 0, slowSubscribersClosed: 0 } });
  const routes: Routes = {
    ...createHealthRoutes(health),
    ...createWorkerRoutes({ workers, authenticator, audit, allowedOrigins: config.corsOrigins, logger }),
    '/metrics': { GET: metrics.handle },
  };
  let handleGraphQL: ReturnType<typeof createGraphQLHttpHandler> | null = null;
  const route = createRouter({
    routes,
    loopbackOnly: config.auth.loopbackOnly,
    graphql: () => handleGraphQL,
    graphiql: config.graphiqlDistDir ? createStaticHandler(config.graphiqlDistDir) : null,
    webApp: config.clientDistDir ? createStaticHandler(config.clientDistDir) : null,
  });

  httpServer.on('request', (req, res) => {
    route(req, res).catch((error) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  const onFatal = hooks.onFatal ?? ((error: Error) => logger.fatal(error.message));
  /** Checks the Redis just connected (throws RedisVersionError), then runs the first-connection work once. */
  const acceptRedis = async () => {
    await requireRedisVersion(redis, (warning) => logger.warn(warning));
    onRedisAccepted();
  };

  /**
   * A Redis that answers within REDIS_COMMAND_TIMEOUT_MS must be new enough, or start()
   * rejects with RedisVersionError (and closes what it opened). One that is down, or slower,
   * does not hold the start up: the server comes up not ready (/live 200, /ready 503), and each
   * later connection is checked as it becomes ready, a too old Redis going to `onFatal`.
   */
  async function checkRedisAtStart(): Promise<void> {
    const connected = redis.connect().then(() => true, () => false);
    subscriber.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([connected, new Promise<false>((resolve) => (timer = setTimeout(resolve, config.redisCommandTimeoutMs, false)))]);
    clearTimeout(timer);
    try {
      if (answered) await acceptRedis();
    } catch (error) {
      await Promise.all([queue.close(), ...[redis, subscriber].map(async (client) => client.disconnect())]);
      throw error;
    }
    // Attached only now: the connection checked above has already emitted its 'ready'.
    redis.on('ready', () => void acceptRedis().catch((error: Error) => onFatal(error)));
  }

  /** Connects to Redis (refusing one too old, not waiting for one that is down), starts Apollo, listens. Returns the URL. */
  async function start(): Promise<string> {
    await checkRedisAtStart();
    if (config.clientDistDir && !existsSync(join(config.clientDistDir, 'index.html'))) {
      logger.warn({ dir: config.clientDistDir }, 'web client not built: run `npm run build` (npm start does)');
    }
    await apollo.start();
    dispatch.start();
    if (config.graphiqlDistDir && !existsSync(join(config.graphiqlDistDir, 'index.html'))) {
      logger.warn({ dir: config.graphiqlDistDir }, 'GraphiQL not built: run `npm run build`');
    }
    handleGraphQL = createGraphQLHttpHandler({
      apollo,
      authenticator,
      context: (caller, requestTrace) => context(caller, undefined, requestTrace),
      maxBodyBytes: config.maxBodyBytes,
      tracing,
    });
    ws = attachGraphQLWs({
      httpServer,
      schema,
      authenticator,
      context,
      formatError,
      validationRules: [limitsRule],
      introspection: config.introspection,
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
    dispatch.dispose();
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
