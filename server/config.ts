/** The server's configuration: the only reader of process.env in the server. */
import { join } from 'node:path';
import { z } from 'zod';
import { envBool, envInt, parseEnv, type CrossCheck } from '../common/env.ts';
import { logConfigFrom, logEnvShape } from '../common/log-config.ts';
import { modelList, sharedConfigFrom, sharedEnvShape } from '../common/shared-config.ts';
import { redisConfigFrom, redisEnvChecks, redisEnvShape } from '../common/redis-config.ts';
import { resourceAttributesCheck, tracingConfigFrom, tracingEnvShape } from '../common/tracing-config.ts';
import { parseRateLimit } from '../schema/src/rate-limit.ts';
import { parseApiKeys } from './auth/api-keys.ts';
import { INTROSPECTION_POLICIES, IntrospectionPolicy } from './graphql/introspection.ts';

const apiKeys = () =>
  z
    .string()
    .default('[]')
    .transform((value, ctx) => {
      try {
        return parseApiKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^API_KEYS: /, '') });
        return z.NEVER;
      }
    });

/** `off`, or a limit like 100/10s. */
const rateLimitOrOff = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((value, ctx) => {
      if (value === 'off') return null;
      try {
        return parseRateLimit(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const isTrue = (value: string | undefined) => value === 'true' || value === '1' || value === 'yes';

/** Authentication is off without keys: then only loopback, unless anonymous access is explicitly allowed. */
const anonymousBindCheck: CrossCheck = (env) => {
  const keysGiven = (env.API_KEYS ?? '[]').replace(/\s/g, '') !== '[]' || isTrue(env.AUTH_REQUIRED);
  const host = env.HOST ?? '127.0.0.1';
  if (keysGiven || LOOPBACK_HOSTS.has(host) || isTrue(env.ALLOW_ANONYMOUS)) return [];
  return [
    `HOST: ${host} with no API keys would let anyone on the network in: set API_KEYS (or AUTH_REQUIRED=true with keys made by \`npm run keys\`), bind HOST=127.0.0.1, or set ALLOW_ANONYMOUS=true`,
  ];
};

/** Development mode shows introspection to anyone, suggestions, GraphiQL and unmasked errors: loopback only. */
const developmentBindCheck: CrossCheck = (env) => {
  const host = env.HOST ?? '127.0.0.1';
  if (LOOPBACK_HOSTS.has(host) || (env.NODE_ENV ?? 'development') !== 'development') return [];
  return [`NODE_ENV: development (the default) shows the schema and internal errors; set NODE_ENV=production to listen on HOST=${host}`];
};

const shape = {
  ...sharedEnvShape,
  PORT: envInt(8000, { max: 65535 }),
  HOST: z.string().default('127.0.0.1'),
  ...redisEnvShape,
  REDIS_COMMAND_TIMEOUT_MS: envInt(2000, { min: 100 }),
  ...logEnvShape,
  MAX_RETRIES: envInt(3, { max: 100 }),
  MAX_CONTENT_BYTES: envInt(64 * 1024, { min: 1, max: 16 * 1024 * 1024 }),
  // The models a submit's own chain (SubmitTaskInput.models) may name; unset: any well-formed id.
  OPENROUTER_ALLOWED_MODELS: modelList,
  MAX_BODY_BYTES: envInt(1024 * 1024, { min: 1024 }),
  WS_MAX_PAYLOAD_BYTES: envInt(64 * 1024, { min: 1024 }),
  WS_KEEPALIVE_MS: envInt(12_000, { min: 0 }),
  WS_INIT_TIMEOUT_MS: envInt(3000, { min: 100 }),
  WS_MAX_SUBSCRIPTIONS: envInt(100, { min: 1 }),
  WS_SUBSCRIBER_MAX_EVENTS: envInt(1000, { min: 1 }),
  WS_SUBSCRIBER_MAX_BYTES: envInt(4 * 1024 * 1024, { min: 1024 }),
  TASK_CONTENT_CACHE_BYTES: envInt(8 * 1024 * 1024, { min: 0 }),
  CORS_ORIGINS: z.string().default(''),
  JOB_TIMEOUT_MS: envInt(10 * 60_000, { min: 1000 }),
  SUBSCRIPTION_RESYNC_MS: envInt(5000, { min: 50 }),
  QUEUE_STATUS_COALESCE_MS: envInt(200, { min: 0 }),
  WORKER_STALE_MS: envInt(15_000, { min: 100 }),
  CLIENT_DIST_DIR: z.string().default(join(import.meta.dirname, '..', 'client', 'dist')),
  SERVE_CLIENT: envBool(true),
  API_KEYS: apiKeys(),
  AUTH_REQUIRED: envBool(false),
  ALLOW_ANONYMOUS: envBool(false),
  SUBMIT_RATE_LIMIT: rateLimitOrOff('100/10s'),
  WS_MAX_CONNECTIONS_PER_KEY: envInt(50, { min: 1 }),
  WS_REAUTH_MS: envInt(30_000, { min: 0 }),
  GRAPHQL_MAX_DEPTH: envInt(10, { min: 2, max: 100 }),
  GRAPHQL_MAX_ALIASES: envInt(30, { min: 0 }),
  GRAPHQL_MAX_DIRECTIVES: envInt(20, { min: 0 }),
  GRAPHQL_MAX_TOKENS: envInt(5000, { min: 100 }),
  GRAPHQL_MAX_COST: envInt(20_000, { min: 10 }),
  GRAPHQL_MAX_SUBMITS: envInt(10, { min: 1, max: 1000 }),
  // Default by NODE_ENV: `on` in development, `keys` otherwise.
  GRAPHQL_INTROSPECTION: z.enum(INTROSPECTION_POLICIES).optional(),
  GRAPHIQL: envBool(false),
  GRAPHIQL_DIST_DIR: z.string().default(join(import.meta.dirname, '..', 'graphiql', 'dist')),
  AUDIT_LOG_MAX: envInt(10_000, { min: 100 }),
  // Where waiting tasks stand (docs/dispatch.md): the most tasks one positions read replays, how
  // often a live standing is read again at most, the start rate's window, tenant activity samples.
  QUEUE_POSITION_MAX_STEPS: envInt(10_000, { min: 1, max: 1_000_000 }),
  STANDING_REFRESH_MS: envInt(500, { min: 10 }),
  START_RATE_WINDOW_MS: envInt(30_000, { min: 1000 }),
  TENANT_ACTIVITY_SAMPLE_MS: envInt(10_000, { min: 100, max: 600_000 }),
  // Shutdown: /ready answers 503 for SHUTDOWN_DELAY_MS while still serving (load balancers
  // take the pod out), then in-flight requests get SHUTDOWN_GRACE_MS to finish.
  SHUTDOWN_DELAY_MS: envInt(0, { max: 120_000 }),
  SHUTDOWN_GRACE_MS: envInt(10_000, { max: 600_000 }),
  ...tracingEnvShape,
  // A link to a task's trace in the operators' trace viewer, shown by the web app.
  TRACE_URL_TEMPLATE: z
    .string()
    .refine((value) => /^https?:\/\//.test(value) && /\{(traceId|taskId)\}/.test(value), 'must be an http(s) URL with {traceId} (or {taskId})')
    .optional(),
};

/** Every environment variable this process reads. */
export const ENV_VARIABLES = Object.keys(shape);

export type ServerConfig = ReturnType<typeof loadConfig>;

/** Validates `env`; throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>) {
  const raw = parseEnv(shape, env, [...redisEnvChecks, anonymousBindCheck, developmentBindCheck, resourceAttributesCheck]);
  const redisSettings = redisConfigFrom(raw);
  const isDevelopment = raw.NODE_ENV === 'development';
  return {
    ...sharedConfigFrom(raw),
    port: raw.PORT,
    host: raw.HOST,
    redisUrl: redisSettings.redisUrl,
    redisPrefix: redisSettings.redisPrefix,
    warnings: redisSettings.warnings,
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    ...logConfigFrom(raw),
    maxRetries: raw.MAX_RETRIES,
    maxContentBytes: raw.MAX_CONTENT_BYTES,
    allowedModels: raw.OPENROUTER_ALLOWED_MODELS,
    maxBodyBytes: raw.MAX_BODY_BYTES,
    wsMaxPayloadBytes: raw.WS_MAX_PAYLOAD_BYTES,
    wsKeepAliveMs: raw.WS_KEEPALIVE_MS,
    wsInitTimeoutMs: raw.WS_INIT_TIMEOUT_MS,
    wsMaxSubscriptions: raw.WS_MAX_SUBSCRIPTIONS,
    /** How far one connection's subscriptions may fall behind (queued, and unflushed in its socket) before it is closed (4480). */
    wsSubscriberLimits: { maxEvents: raw.WS_SUBSCRIBER_MAX_EVENTS, maxBytes: raw.WS_SUBSCRIBER_MAX_BYTES },
    /** Bytes of task contents kept for subscriptions that select them (0: none). */
    taskContentCacheBytes: raw.TASK_CONTENT_CACHE_BYTES,
    corsOrigins: raw.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    jobTimeoutMs: raw.JOB_TIMEOUT_MS,
    subscriptionResyncMs: raw.SUBSCRIPTION_RESYNC_MS,
    queueStatusCoalesceMs: raw.QUEUE_STATUS_COALESCE_MS,
    workerStaleMs: raw.WORKER_STALE_MS,
    clientDistDir: raw.SERVE_CLIENT ? raw.CLIENT_DIST_DIR : null,
    shutdownDelayMs: raw.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    auth: {
      required: raw.API_KEYS.length > 0 || raw.AUTH_REQUIRED,
      /** Authentication off on a loopback bind: requests must name loopback as their Host (DNS rebinding). */
      loopbackOnly: !(raw.API_KEYS.length > 0 || raw.AUTH_REQUIRED) && LOOPBACK_HOSTS.has(raw.HOST),
      envKeys: raw.API_KEYS,
      submitRateLimit: raw.SUBMIT_RATE_LIMIT,
      wsMaxConnectionsPerKey: raw.WS_MAX_CONNECTIONS_PER_KEY,
      wsReauthenticateMs: raw.WS_REAUTH_MS,
    },
    graphqlLimits: {
      maxDepth: raw.GRAPHQL_MAX_DEPTH,
      maxAliases: raw.GRAPHQL_MAX_ALIASES,
      maxDirectives: raw.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: raw.GRAPHQL_MAX_TOKENS,
      maxCost: raw.GRAPHQL_MAX_COST,
      maxSubmits: raw.GRAPHQL_MAX_SUBMITS,
    },
    /** Unmasked internal errors: development only. */
    isDevelopment,
    /** Who may introspect (and see field suggestions, when everyone may): see graphql/introspection.ts. */
    introspection: raw.GRAPHQL_INTROSPECTION ?? (isDevelopment ? IntrospectionPolicy.ON : IntrospectionPolicy.KEYS),
    /** Where the bundled GraphiQL is, when it is served (development, or GRAPHIQL=true). */
    graphiqlDistDir: isDevelopment || raw.GRAPHIQL ? raw.GRAPHIQL_DIST_DIR : null,
    auditLogMax: raw.AUDIT_LOG_MAX,
    dispatch: {
      /** A task further back than this many starts has no position (the read stays bounded). */
      positionMaxSteps: raw.QUEUE_POSITION_MAX_STEPS,
      standingRefreshMs: raw.STANDING_REFRESH_MS,
      startRateWindowMs: raw.START_RATE_WINDOW_MS,
      activitySampleMs: raw.TENANT_ACTIVITY_SAMPLE_MS,
    },
    /** OpenTelemetry tracing; off unless an OTLP endpoint is set (docs/observability.md). */
    tracing: tracingConfigFrom(raw),
    /** The trace viewer's URL for a task (`{traceId}`, `{taskId}`), or null. */
    traceUrlTemplate: raw.TRACE_URL_TEMPLATE ?? null,
  };
}
