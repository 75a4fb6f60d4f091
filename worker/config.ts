/** The worker's configuration: the only reader of process.env in the worker. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { envInt, envJson, envNumber, parseEnv, type CrossCheck } from '../common/env.ts';
import { parseRateLimit } from '../schema/src/rate-limit.ts';
import { createRetryPolicy } from '../schema/src/retry-policy.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { logConfigFrom, logEnvShape } from '../common/log-config.ts';
import { DEFAULT_OPENROUTER_MODEL, sharedConfigFrom, sharedEnvShape } from '../common/shared-config.ts';
import { MODEL_ID_PATTERN } from '../schema/src/model-breakers.ts';
import { redisConfigFrom, redisEnvChecks, redisEnvShape } from '../common/redis-config.ts';
import { resourceAttributesCheck, tracingConfigFrom, tracingEnvShape, workerTracingEnvShape } from '../common/tracing-config.ts';

// STALLED is not here: a task whose worker vanished is taken over at once, within MAX_RETRIES.
const retrySchedulesSchema = z.partialRecord(
  z.enum(ErrorClass).exclude(['STALLED']),
  z.object({ delaysMs: z.array(z.number().int().min(0)).optional(), maxRetries: z.number().int().min(0).max(100).optional() }).strict(),
);

const isRateLimit = (value: string) => {
  try {
    parseRateLimit(value);
    return true;
  } catch {
    return false;
  }
};

export const DEFAULT_OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

const modelPricesSchema = z.record(z.string().min(1), z.object({ promptUsd: z.number().nonnegative(), completionUsd: z.number().nonnegative() }));

const shape = {
  ...sharedEnvShape,
  ...redisEnvShape,
  ...logEnvShape,
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
  WORKER_CONCURRENCY: envInt(4, { min: 1, max: 1000 }),
  LEASE_MS: envInt(30_000, { min: 100 }),
  STALL_INTERVAL_MS: envInt(5000, { min: 50 }),
  HEARTBEAT_INTERVAL_MS: envInt(5000, { min: 50 }),
  SWEEP_INTERVAL_MS: envInt(10_000, { min: 50 }),
  SHUTDOWN_GRACE_MS: envInt(10_000, { min: 0 }),
  // cockatiel's sampling breaker takes a ratio strictly between 0 and 1.
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.5),
  CIRCUIT_VOLUME_THRESHOLD: envInt(10, { min: 1 }),
  CIRCUIT_TIMEOUT: envNumber(60, { min: 0.001 }),
  PROVIDER_STATUS_INTERVAL_MS: envInt(60_000, { min: 50 }),
  RETRY_SCHEDULES: envJson(retrySchedulesSchema, '{"RATE_LIMIT": {"delaysMs": [60000, 120000], "maxRetries": 6}}'),
  PROVIDER_RATE_LIMIT: z
    .string()
    .optional()
    .refine((value) => value === undefined || isRateLimit(value), 'must look like 230/10s (calls per window)'),
  // Provider tokens for all workers together, in the same form (2000000/60s): a task starts when
  // its estimate fits (docs/dispatch.md).
  PROVIDER_TOKEN_LIMIT: z
    .string()
    .optional()
    .refine((value) => value === undefined || isRateLimit(value), 'must look like 2000000/60s (tokens per window)'),
  RETRY_DELAY_SCALE: envNumber(1, { min: 0, max: 1000 }),
  PROVIDER_TIMEOUT_MS: envInt(120_000, { min: 50 }),
  MAX_RESPONSE_BYTES: envInt(1024 * 1024, { min: 1024 }),
  // Live output: the cap per attempt, and how often (time, size) streamed text is appended.
  OUTPUT_MAX_BYTES: envInt(1024 * 1024, { min: 1 }),
  OUTPUT_FLUSH_MS: envInt(50, { min: 1, max: 10_000 }),
  OUTPUT_FLUSH_CHARS: envInt(256, { min: 1 }),
  // Usage and budgets: how soon a task waiting on a spent budget looks again; the ledger's size;
  // how long the hourly usage counters are kept.
  BUDGET_RECHECK_MS: envInt(60_000, { min: 10 }),
  // A call cut off before usage arrived asks the generation endpoint this long, then estimates.
  USAGE_RECONCILE_MS: envInt(3000, { min: 0, max: 60_000 }),
  // Model prices: OpenRouter's models list, kept this long; MODEL_PRICES (JSON, per token in USD)
  // when the list cannot be read, e.g. {"openai/gpt-4o-mini": {"promptUsd": 1.5e-7, "completionUsd": 6e-7}}.
  MODEL_PRICES_TTL_MS: envInt(3_600_000, { min: 1000 }),
  MODEL_PRICES: envJson(modelPricesSchema, '{"vendor/model": {"promptUsd": 1e-7, "completionUsd": 4e-7}}'),
  USAGE_LEDGER_MAX: envInt(1_000_000, { min: 1000 }),
  USAGE_RETENTION_DAYS: envInt(400, { min: 1 }),
  // auto: OpenRouter with a key, else the embedded summarizer. noop: answers at once (benchmarks only).
  PROVIDER: z.enum(['auto', 'noop']).default('auto'),
  OPENROUTER_API_KEY: z.string().optional(),
  /** A file holding the key (a mounted Kubernetes Secret); instead of OPENROUTER_API_KEY. */
  OPENROUTER_API_KEY_FILE: z.string().optional(),
  /** A file the worker touches every few seconds while its event loop runs (container liveness). */
  WORKER_LIVENESS_FILE: z.string().optional(),
  OPENROUTER_BASE_URL: z.url({ protocol: /^https?$/ }).default(DEFAULT_OPENROUTER_BASE_URL),
  // The model a content-filter refusal goes to at once (docs/operations.md, "Model chains"); unset: none.
  OPENROUTER_CONTENT_FILTER_FALLBACK: z.string().regex(MODEL_ID_PATTERN, 'a model id: letters, digits and . _ : / @ + - (up to 200)').optional(),
  ...tracingEnvShape,
  ...workerTracingEnvShape,
};

const readKeyFile = (path: string) => readFileSync(path, 'utf8').trim();

const providerKeyChecks: CrossCheck = (env) => {
  if (!env.OPENROUTER_API_KEY_FILE) return [];
  if (env.OPENROUTER_API_KEY) return ['OPENROUTER_API_KEY_FILE: set either it or OPENROUTER_API_KEY, not both'];
  try {
    return readKeyFile(env.OPENROUTER_API_KEY_FILE) ? [] : ['OPENROUTER_API_KEY_FILE: the file is empty'];
  } catch {
    return ['OPENROUTER_API_KEY_FILE: cannot read the file'];
  }
};

/** Every environment variable this process reads. */
export const ENV_VARIABLES = Object.keys(shape);

export type WorkerConfig = ReturnType<typeof loadConfig>;

/** Validates `env`; throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>) {
  const raw = parseEnv(shape, env, [...redisEnvChecks, providerKeyChecks, resourceAttributesCheck]);
  const redisSettings = redisConfigFrom(raw);
  const apiKey = raw.OPENROUTER_API_KEY ?? (raw.OPENROUTER_API_KEY_FILE ? readKeyFile(raw.OPENROUTER_API_KEY_FILE) : undefined);
  return {
    redisUrl: redisSettings.redisUrl,
    redisPrefix: redisSettings.redisPrefix,
    warnings: redisSettings.warnings,
    ...logConfigFrom(raw),
    ...sharedConfigFrom(raw),
    workerId: raw.WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    concurrency: raw.WORKER_CONCURRENCY,
    leaseMs: raw.LEASE_MS,
    stallIntervalMs: raw.STALL_INTERVAL_MS,
    heartbeatIntervalMs: raw.HEARTBEAT_INTERVAL_MS,
    sweepIntervalMs: raw.SWEEP_INTERVAL_MS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    providerRateLimit: raw.PROVIDER_RATE_LIMIT ? parseRateLimit(raw.PROVIDER_RATE_LIMIT) : null,
    providerTokenLimit: raw.PROVIDER_TOKEN_LIMIT ? parseRateLimit(raw.PROVIDER_TOKEN_LIMIT) : null,
    providerStatusIntervalMs: raw.PROVIDER_STATUS_INTERVAL_MS,
    circuit: {
      failureRatio: raw.CIRCUIT_FAILURE_THRESHOLD,
      volumeThreshold: raw.CIRCUIT_VOLUME_THRESHOLD,
      openMs: Math.round(raw.CIRCUIT_TIMEOUT * 1000),
      windowMs: raw.CIRCUIT_WINDOW_MS,
    },
    retryDelayScale: raw.RETRY_DELAY_SCALE,
    retryPolicy: createRetryPolicy(raw.RETRY_SCHEDULES),
    providerTimeoutMs: raw.PROVIDER_TIMEOUT_MS,
    maxResponseBytes: raw.MAX_RESPONSE_BYTES,
    output: { maxBytes: raw.OUTPUT_MAX_BYTES, flushMs: raw.OUTPUT_FLUSH_MS, flushChars: raw.OUTPUT_FLUSH_CHARS },
    budgetRecheckMs: raw.BUDGET_RECHECK_MS,
    usageReconcileMs: raw.USAGE_RECONCILE_MS,
    modelPrices: { ttlMs: raw.MODEL_PRICES_TTL_MS, fallback: raw.MODEL_PRICES },
    usageLedgerMax: raw.USAGE_LEDGER_MAX,
    usageRetentionMs: raw.USAGE_RETENTION_DAYS * 86_400_000,
    provider: raw.PROVIDER,
    livenessFile: raw.WORKER_LIVENESS_FILE ?? null,
    // A remote provider was asked for (a URL or model other than the defaults) but no key given: say so.
    openRouterKeyMissing:
      raw.PROVIDER === 'auto' &&
      !apiKey && (raw.OPENROUTER_BASE_URL !== DEFAULT_OPENROUTER_BASE_URL || raw.OPENROUTER_MODEL !== DEFAULT_OPENROUTER_MODEL),
    openRouter: apiKey && raw.PROVIDER === 'auto'
      ? { apiKey, baseUrl: raw.OPENROUTER_BASE_URL.replace(/\/+$/, ''), model: raw.OPENROUTER_MODELS?.[0] ?? raw.OPENROUTER_MODEL }
      : null,
    contentFilterFallback: raw.OPENROUTER_CONTENT_FILTER_FALLBACK ?? null,
    /** OpenTelemetry tracing; off unless an OTLP endpoint is set (docs/observability.md). */
    tracing: tracingConfigFrom(raw),
  };
}
