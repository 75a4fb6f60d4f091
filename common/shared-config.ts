/**
 * The settings both the API server and the workers read, declared once so the two processes
 * cannot drift apart (each once had its own minimum for TASK_RETENTION_HOURS). Each process
 * spreads `sharedEnvShape` into its own shape and takes `sharedConfigFrom(raw)`.
 */
import { z } from 'zod';
import { MODEL_ID_PATTERN } from '../schema/src/model-breakers.ts';
import type { RetryRatioSettings } from '../schema/src/queue-policy.ts';
import { envInt, envNumber } from './env.ts';

export const DEFAULT_OPENROUTER_MODEL = 'openai/gpt-4o-mini';

const MODEL_ID_RULE = 'model ids are letters, digits and . _ : / @ + - (up to 200)';

/** A list of model ids separated by commas, each once (OPENROUTER_MODELS, OPENROUTER_ALLOWED_MODELS); absent is null. */
export const modelList = z
  .string()
  .optional()
  .transform((value, context): string[] | null => {
    if (value === undefined) return null;
    const models = value.split(',').map((model) => model.trim());
    const bad = models.filter((model) => !MODEL_ID_PATTERN.test(model));
    if (bad.length > 0) context.addIssue({ code: 'custom', message: `${bad.map((model) => JSON.stringify(model)).join(', ')}: ${MODEL_ID_RULE}` });
    const twice = models.filter((model, i) => models.indexOf(model) !== i);
    if (twice.length > 0) context.addIssue({ code: 'custom', message: `${twice.join(', ')} listed twice` });
    return models;
  });

export const sharedEnvShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** How long finished tasks (and idempotency keys) are kept; 0.0001 h is 0.36 s, for tests. */
  TASK_RETENTION_HOURS: envNumber(168, { min: 0.0001 }),
  /** Cap of each task's event stream. */
  TASK_EVENTS_MAX: envInt(1000, { min: 10 }),
  RETRY_RATIO: envNumber(0.3, { max: 1 }),
  RETRY_QUEUE_WARNING: envInt(1000),
  RETRY_QUEUE_CRITICAL: envInt(5000),
  // The most tokens an answer may have: sent as max_tokens; a task's cost to the dispatcher and
  // a budget's hold are its prompt plus this.
  MAX_COMPLETION_TOKENS: envInt(1024, { min: 1, max: 1_000_000 }),
  // How far HIGH and LOW move a task in its tenant's line (docs/dispatch.md).
  PRIORITY_OFFSET_MS: envInt(300_000, { min: 0, max: 7 * 86_400_000 }),
  // The model calls are made with, and the chain a task tries in order (its first is the
  // primary); the API lists each model's breaker (docs/operations.md, "Model breakers").
  OPENROUTER_MODEL: z.string().regex(MODEL_ID_PATTERN, MODEL_ID_RULE).default(DEFAULT_OPENROUTER_MODEL),
  OPENROUTER_MODELS: modelList,
  // The window the breakers count calls in: the worker's own and each model's (the API reads it
  // for the models query's failure rate).
  CIRCUIT_WINDOW_MS: envInt(60_000, { min: 100 }),
};

type SharedEnv = z.infer<z.ZodObject<typeof sharedEnvShape>>;

export function sharedConfigFrom(raw: SharedEnv) {
  return {
    nodeEnv: raw.NODE_ENV,
    retentionMs: Math.round(raw.TASK_RETENTION_HOURS * 3_600_000),
    /** An idempotency key lives as long as the task it names can. */
    idempotencyTtlSeconds: Math.ceil(raw.TASK_RETENTION_HOURS * 3600),
    taskEventsMax: raw.TASK_EVENTS_MAX,
    retryRatio: {
      retryRatio: raw.RETRY_RATIO,
      retryQueueWarning: raw.RETRY_QUEUE_WARNING,
      retryQueueCritical: raw.RETRY_QUEUE_CRITICAL,
    } satisfies RetryRatioSettings,
    maxCompletionTokens: raw.MAX_COMPLETION_TOKENS,
    priorityOffsetMs: raw.PRIORITY_OFFSET_MS,
    /** OPENROUTER_MODELS, or OPENROUTER_MODEL alone. */
    models: raw.OPENROUTER_MODELS ?? [raw.OPENROUTER_MODEL],
    circuitWindowMs: raw.CIRCUIT_WINDOW_MS,
  };
}
