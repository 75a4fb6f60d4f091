/**
 * What the runner is given (RunnerOptions) and what its parts share (RunnerWrites). The parts
 * (worker/attempt-settlement.ts, model-routing.ts, guarded-call.ts) each take the options they
 * read as a Pick of these, so a part's dependencies show in its signature.
 */
import type { Logger } from '../common/logger.ts';
import type { RedisEndpoint } from '../common/redis-connection.ts';
import type { Hold } from '../schema/src/holds.ts';
import type { QueueName, RedisKeys } from '../schema/src/redis-keys.ts';
import type { RetryPolicy } from '../schema/src/retry-policy.ts';
import type { TaskType } from '../schema/src/task.ts';
import type { ChainStore } from './chain-store.ts';
import type { Deferral } from './held-release.ts';
import type { ModelBreakers } from './model-breakers.ts';
import type { ProviderRateLimiter } from './rate-limiter.ts';
import type { ProviderCircuit } from './resilience.ts';
import type { ClaimedTask, Lease, TaskStore } from './task-store.ts';
import type { TaskHandler } from './tasks/task-handler.ts';
import type { AttemptTracer } from './tracing/types.ts';

export interface RunnerOptions {
  endpoint: RedisEndpoint;
  keys: RedisKeys;
  store: TaskStore;
  handlers: Record<TaskType, TaskHandler>;
  logger: Logger;
  workerId: string;
  /** Tasks run at once, from both queues together. */
  concurrency: number;
  /** How streamed output is appended (OUTPUT_FLUSH_MS, OUTPUT_FLUSH_CHARS) and capped (OUTPUT_MAX_BYTES). */
  output?: { flushMs: number; flushChars: number; maxBytes: number };
  /** Share of slots for the retry queue while both queues have work (the ratio in force). */
  retryRatio: () => number;
  leaseMs: number;
  stallIntervalMs: number;
  retryDelayScale: number;
  /** Retry delays and limits per error class (RETRY_SCHEDULES over the defaults). */
  retryPolicy: RetryPolicy;
  /** Guards the handlers' provider calls; an open circuit defers tasks instead of failing them. */
  circuit: ProviderCircuit;
  /** How long a task waits when the circuit is forced open (no automatic half-open time). */
  deferWhileOpenMs: number;
  /**
   * The shared breakers of each model (worker/model-breakers.ts), for calls to `model`; null for
   * a provider without models (the embedded summarizer). A task whose model is open waits, as
   * for the worker's own breaker.
   */
  modelBreakers?: ModelBreakers | null;
  /** The shared provider rate limit; null for handlers that call no provider. */
  rateLimiter: ProviderRateLimiter | null;
  /**
   * Budgets: what a task's call may cost at most (its reservation), how long a hold lives (a call's
   * deadline), and how soon a task deferred for a spent budget looks again (BUDGET_RECHECK_MS).
   */
  budget?: { estimateNano(task: ClaimedTask, models: readonly string[]): Promise<number>; holdMs: number; recheckMs: number; applies?(tenant: string): Promise<boolean> };
  /** The model provider calls are made with (for usage reconciled after a crash); a chain of one without `models`. */
  model?: string;
  /** The configured model chain (OPENROUTER_MODELS, else OPENROUTER_MODEL), tried in order (worker/model-chain.ts). */
  models?: readonly string[];
  /** OPENROUTER_CONTENT_FILTER_FALLBACK: the model a content-filter refusal goes to at once; null for none. */
  contentFilterFallback?: string | null;
  /** Writes a task's move on in its chain; without it, every failure is an ordinary one. */
  chainStore?: ChainStore | null;
  /** Told how each provider call went: `ok`, the HTTP status, the error class, or `aborted`. */
  onProviderCall?: (call: { status: string; durationMs: number }) => void;
  /**
   * Told of each deferral written for a hold that can end early (schema/src/holds.ts), after its
   * job is queued; `stillHeld` is false when the hold ended here while it was being written.
   */
  onHeld?: (deferral: Deferral, hold: Hold, stillHeld: boolean) => Promise<void>;
  /** Traces each attempt (docs/observability.md); null or absent when tracing is off. */
  tracing?: AttemptTracer | null;
}

/** The runner's writes, shared with its parts: the fenced task store and the queues. */
export interface RunnerWrites {
  store: TaskStore;
  /** Retries a write that must not be lost to a short Redis hiccup (runner.ts `persistently`). */
  persistently<T>(write: () => Promise<T>, log: Logger): Promise<T>;
  /** Puts a job for the task on `queue`, delayed until `at` (epoch ms) when given. */
  enqueue(taskId: string, queue: QueueName, jobId: string, at?: number, tenant?: string): Promise<void>;
  /** Queues the retry job of the task's `attempt` for `at`, as persistently as the write that set `at`. */
  queueRetry(lease: Lease, attempt: number, at: number, log: Logger): Promise<void>;
}
