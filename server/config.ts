/** The server's configuration: the only reader of process.env in the server. */
import { join } from 'node:path';
import { z } from 'zod';
import { envBool, envInt, envNumber, parseEnv } from '../common/env.ts';
import { logConfigFrom, logEnvShape } from '../common/log-config.ts';
import { redisConfigFrom, redisEnvChecks, redisEnvShape } from '../common/redis-config.ts';

const shape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: envInt(8000, { max: 65535 }),
  HOST: z.string().default('127.0.0.1'),
  ...redisEnvShape,
  REDIS_COMMAND_TIMEOUT_MS: envInt(2000, { min: 100 }),
  ...logEnvShape,
  MAX_RETRIES: envInt(3, { max: 100 }),
  MAX_CONTENT_BYTES: envInt(64 * 1024, { min: 1, max: 16 * 1024 * 1024 }),
  MAX_BODY_BYTES: envInt(1024 * 1024, { min: 1024 }),
  WS_MAX_PAYLOAD_BYTES: envInt(64 * 1024, { min: 1024 }),
  WS_KEEPALIVE_MS: envInt(12_000, { min: 0 }),
  WS_INIT_TIMEOUT_MS: envInt(3000, { min: 100 }),
  WS_MAX_SUBSCRIPTIONS: envInt(100, { min: 1 }),
  CORS_ORIGINS: z.string().default(''),
  TASK_EVENTS_MAX: envInt(1000, { min: 10 }),
  TASK_RETENTION_HOURS: envNumber(168, { min: 0.001 }),
  JOB_TIMEOUT_MS: envInt(10 * 60_000, { min: 1000 }),
  SUBSCRIPTION_RESYNC_MS: envInt(5000, { min: 50 }),
  QUEUE_STATUS_COALESCE_MS: envInt(200, { min: 0 }),
  WORKER_STALE_MS: envInt(15_000, { min: 100 }),
  RETRY_RATIO: envNumber(0.3, { max: 1 }),
  RETRY_QUEUE_WARNING: envInt(1000),
  RETRY_QUEUE_CRITICAL: envInt(5000),
  CLIENT_DIST_DIR: z.string().default(join(import.meta.dirname, '..', 'client', 'dist')),
  SERVE_CLIENT: envBool(true),
  // Shutdown: /ready answers 503 for SHUTDOWN_DELAY_MS while still serving (load balancers
  // take the pod out), then in-flight requests get SHUTDOWN_GRACE_MS to finish.
  SHUTDOWN_DELAY_MS: envInt(0, { max: 120_000 }),
  SHUTDOWN_GRACE_MS: envInt(10_000, { max: 600_000 }),
};

/** Every environment variable this process reads. */
export const ENV_VARIABLES = Object.keys(shape);

export type ServerConfig = ReturnType<typeof loadConfig>;

/** Validates `env`; throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>) {
  const raw = parseEnv(shape, env, redisEnvChecks);
  const redisSettings = redisConfigFrom(raw);
  return {
    nodeEnv: raw.NODE_ENV,
    port: raw.PORT,
    host: raw.HOST,
    redisUrl: redisSettings.redisUrl,
    redisPrefix: redisSettings.redisPrefix,
    warnings: redisSettings.warnings,
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    ...logConfigFrom(raw),
    maxRetries: raw.MAX_RETRIES,
    maxContentBytes: raw.MAX_CONTENT_BYTES,
    maxBodyBytes: raw.MAX_BODY_BYTES,
    wsMaxPayloadBytes: raw.WS_MAX_PAYLOAD_BYTES,
    wsKeepAliveMs: raw.WS_KEEPALIVE_MS,
    wsInitTimeoutMs: raw.WS_INIT_TIMEOUT_MS,
    wsMaxSubscriptions: raw.WS_MAX_SUBSCRIPTIONS,
    corsOrigins: raw.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    taskEventsMax: raw.TASK_EVENTS_MAX,
    idempotencyTtlSeconds: Math.ceil(raw.TASK_RETENTION_HOURS * 3600),
    jobTimeoutMs: raw.JOB_TIMEOUT_MS,
    subscriptionResyncMs: raw.SUBSCRIPTION_RESYNC_MS,
    queueStatusCoalesceMs: raw.QUEUE_STATUS_COALESCE_MS,
    workerStaleMs: raw.WORKER_STALE_MS,
    retryRatio: {
      retryRatio: raw.RETRY_RATIO,
      retryQueueWarning: raw.RETRY_QUEUE_WARNING,
      retryQueueCritical: raw.RETRY_QUEUE_CRITICAL,
    },
    clientDistDir: raw.SERVE_CLIENT ? raw.CLIENT_DIST_DIR : null,
    shutdownDelayMs: raw.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
  };
}
