/**
 * The only place a Redis key or channel name is built. Every process derives its names
 * from one prefix (REDIS_PREFIX), so several deployments or test files can share a Redis.
 */
import type { Hold } from './holds.ts';
import type { ErrorClass, TaskState, TaskType } from './task.ts';

export const DEFAULT_REDIS_PREFIX = 'atf';

/** The bee-queue queue names; bee-queue adds its own `<prefix>:<name>:...` keys. */
export const QueueName = { PRIMARY: 'primary', RETRY: 'retry' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export interface RedisKeys {
  readonly prefix: string;
  /** Hash: the task record, the source of truth. */
  task(id: string): string;
  /** Stream: the task's capped event log; entry ids are `0-<version>`. */
  taskEvents(id: string): string;
  /**
   * Stream: the task's output, chunk by chunk. Entry ids are `<attempt>-<n>` (n from 1 within an
   * attempt), so they order across attempts and double as resume cursors. Holds the latest
   * attempt that wrote (a new attempt's first chunk trims the ones before).
   */
  taskOutput(id: string): string;
  /** Sorted set of every task; score = creation ms × 1000 + a sequence (the create script, scripts/api.ts). */
  tasksAll(): string;
  /**
   * Sorted set of the tasks of one type, in every state; same scores as `tasksAll`. A type never
   * changes, so only create and delete touch it.
   */
  tasksOfType(type: TaskType): string;
  /** Sorted set of the tasks in one state; same scores as `tasksAll`. */
  tasksInState(state: TaskState): string;
  /** Sorted set of the DLQ tasks whose last error has this class; same scores as `tasksAll`. */
  deadLetterByClass(errorClass: ErrorClass): string;
  /** Sorted set of COMPLETED and CANCELLED tasks; score = when they got there (ms), for retention. */
  tasksFinished(): string;
  /** Sorted set of every task id with score 0, for prefix search by id (ZRANGEBYLEX). */
  taskIds(): string;
  /** String: idempotency key of a tenant -> task id. */
  idempotency(tenant: string, key: string): string;
  /** Prefix of the per-minute flow hashes: `taskFlowPrefix() + <minute start ms>` (see `taskFlowBucket`). */
  taskFlowPrefix(): string;
  /** Hash: transitions counted in the minute starting at `minuteMs` (field `FROM>TO`, '' = none); expires. */
  taskFlowBucket(minuteMs: number): string;
  /** Counter making creation scores unique within one millisecond. */
  taskSequence(): string;
  /**
   * Sorted set: tasks deferred for a hold that can end early (a breaker, the rate limit), id ->
   * when the deferral ends (ms). Written by the defer script, taken when the hold ends (holds.ts).
   */
  tasksHeld(hold: Hold): string;
  /** Sorted set: worker id -> last heartbeat (ms). */
  workers(): string;
  /** Hash: one worker's heartbeat details; expires when the worker stops beating. */
  worker(id: string): string;
  /** Hash: the latest operator command to every worker's circuit breaker (id, action, at). */
  circuitCommand(): string;
  /** Channel: a worker's id each time it beats (feeds the live workers view). */
  workersChannel(): string;
  /** Channel: a hint that an operator gave a circuit command (workers then read the hash). */
  circuitChannel(): string;
  /** Hash: the shared provider token bucket (tokens, at). */
  providerBucket(): string;
  /** String: until when (ms) every worker holds its provider calls (a 429's Retry-After). */
  providerPausedUntil(): string;
  /** String: the provider rate limit in force (`230/10s`), set by an operator; overrides PROVIDER_RATE_LIMIT. */
  providerRateLimit(): string;
  /** Hash: the provider status a worker last checked (state, creditsRemaining, checkedAt). */
  providerStatus(): string;
  /** String: held by the worker whose turn it is to check the provider (one check per interval). */
  providerStatusLock(): string;
  /** Channel: a hint that the provider status was checked. */
  providerChannel(): string;
  /** Hash: every model's breaker, field = model id (see schema/src/model-breakers.ts). */
  modelBreakers(): string;
  /** Hash: one model's recent call and failure counts in tenth-of-window buckets; expires. */
  modelCalls(model: string): string;
  /** String: the probe lease of one model's half-open breaker (SET NX PX). */
  modelProbe(model: string): string;
  /** Hash: all-time calls by model and outcome, field `<model>\t<outcome>` (for /metrics). */
  modelCallTotals(): string;
  /** Channel: a hint that a model's breaker changed (workers then read `modelBreakers`). */
  modelBreakersChannel(): string;
  /** Prefix bee-queue puts before its queue names. */
  beeQueuePrefix(): string;
  /** One of bee-queue's own keys for a queue (`jobs` hash, `waiting` list, `delayed` zset, ...). */
  beeQueueKey(queue: QueueName, suffix: 'jobs' | 'waiting' | 'active' | 'delayed' | 'stalling'): string;
  /**
   * Channel: every change and deletion of any task (JSON task record without content). API
   * servers subscribe once and route to each task's watchers in-process.
   */
  tasksChannel(): string;
  /** Channel: every output chunk of any task (see scripts/output.ts); API servers subscribe once. */
  outputChannel(): string;
  /** Channel: ids of ACTIVE tasks that were cancelled or deleted, so their worker aborts now. */
  cancelChannel(): string;
  /** Hash: API key id -> JSON of the key made by `npm run keys` (its hash, never the key). */
  apiKeys(): string;
  /** Hash: revoked API key id -> when (ms); applies to API_KEYS entries too. */
  apiKeysRevoked(): string;
  /** Hash: one caller's submission token bucket (tokens, at). */
  submitBucket(actor: string): string;
  /** Hash: cluster-wide task counters and latency histograms (see task-stats.ts). */
  taskStats(): string;
  /** Hash: provider call latency histograms by status, written by workers (see task-stats.ts). */
  providerCallStats(): string;
  /** Stream: the audit log of operator actions, capped. */
  auditLog(): string;
  /** The slice of a task index (`tasksAll`, `tasksInState`) holding one tenant's tasks. */
  tenantSlice(indexKey: string, tenant: string): string;
  /** Stream: every billed provider call (the usage ledger), append-only, capped by USAGE_LEDGER_MAX. */
  usageLedger(): string;
  /** Hash: usage counters of the hour starting at `hourMs`, field `<tenant>\t<apiKeyId>\t<model>\t<metric>`. */
  usageHour(hourMs: number): string;
  /**
   * Hash: generation id -> JSON of a provider call under way (task, tenant, attempt, model, when,
   * its budget hold): what a sweeper reconciles when the worker died before recording its usage.
   */
  usagePending(): string;
  /** Hash: all-time token and cost counters, field `<tenant>\t<model>\t<kind>` (for /metrics). */
  usageTotals(): string;
  /** Hash: `<tenant>\t<DAY|MONTH>` -> limit in nano-dollars. */
  budgets(): string;
  /**
   * Sorted set: the tenants with work the dispatcher may start, member `<head order>|<tenant>`,
   * score = the tenant's virtual start tag (see schema/src/scripts/dispatch.ts).
   */
  dispatchReady(): string;
  /** Hash: the dispatcher's state: per tenant `<tenant>\t<field>` (policy, tag, counts), and `\t<field>` globals. */
  dispatchState(): string;
  /** Sorted set: tenants held at their cap -> when the earliest of their leases runs out (ms). */
  dispatchCapWake(): string;
  /** Sorted set: one tenant's line of waiting tasks (`new` or `retry`), member `<cost>|<task id>`, score = priority order. */
  dispatchLine(lane: 'new' | 'retry', tenant: string): string;
  /** Sorted set: a capped tenant's running attempts, member `<task id>:<attempt>`, score = lease expiry (ms). */
  dispatchRunning(tenant: string): string;
  /** String: nano-dollars a tenant spent in the period starting at `periodStartMs` (kept for every tenant). */
  budgetSpent(tenant: string, period: 'DAY' | 'MONTH', periodStartMs: number): string;
  /** Sorted set: a tenant's live budget reservations, id -> when it expires (ms). */
  budgetReservations(tenant: string): string;
  /** Hash: a tenant's live reservation id -> nano-dollars held. */
  budgetReservationAmounts(tenant: string): string;
}

/** Builds every key and channel name under `prefix`. */
export function createRedisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    prefix,
    task: (id) => `${prefix}:task:${id}`,
    taskEvents: (id) => `${prefix}:task:${id}:events`,
    taskOutput: (id) => `${prefix}:task:${id}:output`,
    tasksAll: () => `${prefix}:tasks:all`,
    tasksOfType: (type) => `${prefix}:tasks:type:${type}`,
    tasksInState: (state) => `${prefix}:tasks:state:${state}`,
    deadLetterByClass: (errorClass) => `${prefix}:tasks:dlq:${errorClass}`,
    taskIds: () => `${prefix}:tasks:ids`,
    tasksFinished: () => `${prefix}:tasks:finished`,
    idempotency: (tenant, key) => `${prefix}:idem:${tenant}:${key}`,
    taskFlowPrefix: () => `${prefix}:flow:`,
    taskFlowBucket: (minuteMs) => `${prefix}:flow:${minuteMs}`,
    taskSequence: () => `${prefix}:tasks:seq`,
    tasksHeld: (hold) => `${prefix}:tasks:held:${hold}`,
    workers: () => `${prefix}:workers`,
    worker: (id) => `${prefix}:worker:${id}`,
    circuitCommand: () => `${prefix}:circuit:command`,
    workersChannel: () => `${prefix}:events:workers`,
    circuitChannel: () => `${prefix}:events:circuit`,
    providerBucket: () => `${prefix}:provider:bucket`,
    providerPausedUntil: () => `${prefix}:provider:paused-until`,
    providerRateLimit: () => `${prefix}:provider:rate-limit`,
    providerStatus: () => `${prefix}:provider:status`,
    providerStatusLock: () => `${prefix}:provider:status-lock`,
    providerChannel: () => `${prefix}:events:provider`,
    modelBreakers: () => `${prefix}:models:breakers`,
    // The model comes last in each family, and the families differ before it (as dispatchLine's tenant).
    modelCalls: (model) => `${prefix}:models:calls:${model}`,
    modelProbe: (model) => `${prefix}:models:probe:${model}`,
    modelCallTotals: () => `${prefix}:models:totals`,
    modelBreakersChannel: () => `${prefix}:events:model-breakers`,
    beeQueuePrefix: () => `${prefix}:bq`,
    beeQueueKey: (queue, suffix) => `${prefix}:bq:${queue}:${suffix}`,
    tasksChannel: () => `${prefix}:events:tasks`,
    outputChannel: () => `${prefix}:events:output`,
    cancelChannel: () => `${prefix}:events:cancel`,
    apiKeys: () => `${prefix}:auth:keys`,
    apiKeysRevoked: () => `${prefix}:auth:revoked`,
    submitBucket: (actor) => `${prefix}:auth:bucket:${actor}`,
    auditLog: () => `${prefix}:audit`,
    taskStats: () => `${prefix}:tasks:all:stats`,
    providerCallStats: () => `${prefix}:provider:call-stats`,
    tenantSlice: (indexKey, tenant) => `${indexKey}:tenant:${tenant}`,
    usageLedger: () => `${prefix}:usage:ledger`,
    usageHour: (hourMs) => `${prefix}:usage:hour:${hourMs}`,
    usageTotals: () => `${prefix}:usage:totals`,
    usagePending: () => `${prefix}:usage:pending`,
    budgets: () => `${prefix}:budgets`,
    dispatchReady: () => `${prefix}:dispatch:ready`,
    dispatchState: () => `${prefix}:dispatch:state`,
    dispatchCapWake: () => `${prefix}:dispatch:cap-wake`,
    // The tenant comes last in each family, and the families differ before it, so no tenant name
    // can make one family's key equal another's.
    dispatchLine: (lane, tenant) => `${prefix}:dispatch:${lane}:${tenant}`,
    dispatchRunning: (tenant) => `${prefix}:dispatch:running:${tenant}`,
    budgetSpent: (tenant, period, periodStartMs) => `${prefix}:budget:${tenant}:spent:${period}:${periodStartMs}`,
    budgetReservations: (tenant) => `${prefix}:budget:${tenant}:reserved`,
    budgetReservationAmounts: (tenant) => `${prefix}:budget:${tenant}:reserved-amounts`,
  };
}
