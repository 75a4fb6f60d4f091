import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { TaskRecord, TaskErrorRecord, TaskEvent } from '../../../schema/src/task.ts';
import type { QueueStatusSnapshot } from '../../services/queue-service.ts';
import type { WorkerView } from '../../services/worker-service.ts';
import type { CircuitSnapshot } from '../../../schema/src/circuit.ts';
import type { ModelStatusView } from '../../infra/model-breaker-store.ts';
import type { ProviderStatusSnapshot } from '../../../schema/src/provider-status.ts';
import type { TaskStandingView } from '../../services/dispatch-service.ts';
import type { GraphQLContext } from '../context.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An ISO-8601 instant in UTC, always with a trailing Z (2026-01-31T12:00:00.000Z). */
  DateTime: { input: Date; output: number | string | Date; }
};

export type AuditConnection = {
  __typename?: 'AuditConnection';
  nodes: Array<AuditRecord>;
  pageInfo: PageInfo;
};

/** One operator action, as the audit log keeps it. */
export type AuditRecord = {
  __typename?: 'AuditRecord';
  /** The mutation or route that acted, e.g. purgeDeadLetterQueue. */
  action: Scalars['String']['output'];
  /** The id of the key that acted (never the key itself), or 'anonymous'. */
  actor: Scalars['String']['output'];
  at: Scalars['DateTime']['output'];
  /** The outcome, e.g. how many tasks it moved. */
  detail?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** What it acted on: task ids, an error class, or null for everything. */
  target?: Maybe<Scalars['String']['output']>;
  tenant: Scalars['String']['output'];
};

/** A tenant's spending limit for a period. */
export type Budget = {
  __typename?: 'Budget';
  limitUsd: Scalars['Float']['output'];
  period: BudgetPeriod;
  /** Held for provider calls running now (their estimate, settled with the actual cost). */
  reservedUsd: Scalars['Float']['output'];
  resetsAt: Scalars['DateTime']['output'];
  /** Spent in the current period. */
  spentUsd: Scalars['Float']['output'];
  tenant: Scalars['String']['output'];
};

/** How long a budget's spend adds up before it starts over (UTC days and months). */
export type BudgetPeriod =
  | 'DAY'
  | 'MONTH';

/** The state of a worker's circuit breaker around provider calls. */
export type CircuitState =
  /** Calls go through. */
  | 'CLOSED'
  /** One probe call decides whether to close again. */
  | 'HALF_OPEN'
  /** Calls are refused; tasks wait (without losing retries) until the probe time. */
  | 'OPEN';

export type CircuitStatus = {
  __typename?: 'CircuitStatus';
  /** Provider failures counted since the breaker last closed. */
  failures: Scalars['Int']['output'];
  /** When an open breaker lets one probe through; null when forced open by an operator. */
  halfOpenAt?: Maybe<Scalars['DateTime']['output']>;
  openedAt?: Maybe<Scalars['DateTime']['output']>;
  state: CircuitState;
};

/** How many tasks in the dead letter queue have a last error of this class. */
export type DeadLetterCount = {
  __typename?: 'DeadLetterCount';
  count: Scalars['Int']['output'];
  errorClass: ErrorClass;
};

/** Why an attempt failed. The class decides whether and when the task is retried. */
export type ErrorClass =
  | 'CONTENT_FILTER'
  | 'INSUFFICIENT_CREDITS'
  | 'INTERNAL'
  | 'MODEL_WARMUP'
  | 'NETWORK_TIMEOUT'
  /** The attempt's output passed OUTPUT_MAX_BYTES; what it wrote so far stays readable. */
  | 'OUTPUT_TOO_LARGE'
  | 'PERMANENT'
  | 'PROVIDER_ERROR'
  | 'RATE_LIMIT'
  /** One request costs more than the provider's whole in-flight budget (OpenRouter's 402 weight_exceeds_budget): not retried. */
  | 'REQUEST_OVER_BUDGET'
  | 'SERVICE_UNAVAILABLE'
  | 'STALLED';

/** The transitions counted in one minute (by Redis' clock). */
export type FlowBucket = {
  __typename?: 'FlowBucket';
  /** Start of the minute. */
  start: Scalars['DateTime']['output'];
  transitions: Array<FlowCount>;
};

/** How many tasks made one kind of transition within one minute. */
export type FlowCount = {
  __typename?: 'FlowCount';
  count: Scalars['Int']['output'];
  /** The state the tasks left; null for tasks that were submitted (they had no state before). */
  from?: Maybe<TaskState>;
  /** The state the tasks entered; null for tasks that were deleted. */
  to?: Maybe<TaskState>;
};

/**
 * One model's breaker, shared by every worker (docs/operations.md, "Model breakers"): it opens
 * when at least CIRCUIT_FAILURE_THRESHOLD of at least CIRCUIT_VOLUME_THRESHOLD calls to the model
 * failed within CIRCUIT_WINDOW_MS; while it is open, tasks skip the model.
 */
export type ModelStatus = {
  __typename?: 'ModelStatus';
  /** Calls in the last CIRCUIT_WINDOW_MS that said something of the model's health (answered, or failed with a server error, a timeout, a broken stream or a warm-up). */
  calls: Scalars['Int']['output'];
  /** The model is in the configured chain (OPENROUTER_MODELS, else OPENROUTER_MODEL); false for a model only called before. */
  configured: Scalars['Boolean']['output'];
  /** failures / calls, 0 without calls. */
  failureRate: Scalars['Float']['output'];
  /** Of those calls, the failures. */
  failures: Scalars['Int']['output'];
  /** When an open breaker lets (or let) one probe through; null while closed, and when forced open by an operator (no probe until a reset). */
  halfOpenAt?: Maybe<Scalars['DateTime']['output']>;
  /** The model id, as OpenRouter names it. */
  model: Scalars['String']['output'];
  /** When it last opened; null while closed. */
  openedAt?: Maybe<Scalars['DateTime']['output']>;
  /** HALF_OPEN once its probe time has come: the next call to it is the one probe. */
  state: CircuitState;
};

/**
 * Why an attempt moved on to another model of the task's chain (docs/operations.md, "Model
 * chains"). A switch counts as a retry only once the whole chain has failed.
 */
export type ModelSwitchReason =
  /** The model's content filter refused: the model OPENROUTER_CONTENT_FILTER_FALLBACK names is tried at once. */
  | 'CONTENT_FILTER'
  /** The model refused the prompt as longer than its context: the next model is tried at once. */
  | 'CONTEXT_LENGTH'
  /** The answer's stream broke after output began: the next attempt starts on the next model. */
  | 'STREAM_BROKEN';

export type Mutation = {
  __typename?: 'Mutation';
  /** Cancel a PENDING or SCHEDULED task at once, or an ACTIVE one by aborting its provider call. If it completes first, that wins (CONFLICT). */
  cancelTask: Task;
  /** Remove a task everywhere. False when there was no such task. */
  deleteTask: Scalars['Boolean']['output'];
  /** Force every worker's circuit breaker and every model's (configured or called) open, with no probe, until a reset: tasks wait without losing retries. */
  openCircuitBreakers: Array<Worker>;
  /** Delete every task in the dead letter queue. Needs confirm: true. Returns how many were deleted. */
  purgeDeadLetterQueue: Scalars['Int']['output'];
  /** Close every worker's circuit breaker and every model's (see `models`), and clear their counts. Reaches workers that were disconnected when it was given. */
  resetCircuitBreakers: Array<Worker>;
  /** Send dead-letter tasks back to work with a fresh retry budget: the given ids, or all of one error class, or all. Returns how many moved. */
  retryDeadLetterTasks: Scalars['Int']['output'];
  /** Send a DLQ or CANCELLED task back to work through the retry queue. Any other state is a CONFLICT and changes nothing. */
  retryTask: Task;
  /** Admin only; audited. A null limit removes the budget. */
  setBudget?: Maybe<Budget>;
  /** Admin only; audited. */
  setTenantPolicy: TenantPolicy;
  /** Accept a task and queue it. */
  submitTask: Task;
};


export type MutationCancelTaskArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteTaskArgs = {
  id: Scalars['ID']['input'];
};


export type MutationPurgeDeadLetterQueueArgs = {
  confirm: Scalars['Boolean']['input'];
};


export type MutationRetryDeadLetterTasksArgs = {
  errorClass?: InputMaybe<ErrorClass>;
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
};


export type MutationRetryTaskArgs = {
  id: Scalars['ID']['input'];
  resetRetryCount?: InputMaybe<Scalars['Boolean']['input']>;
};


export type MutationSetBudgetArgs = {
  limitUsd?: InputMaybe<Scalars['Float']['input']>;
  period: BudgetPeriod;
  tenant: Scalars['String']['input'];
};


export type MutationSetTenantPolicyArgs = {
  input: TenantPolicyInput;
  tenant: Scalars['String']['input'];
};


export type MutationSubmitTaskArgs = {
  input: SubmitTaskInput;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** How the summarization provider looks from here. */
export type ProviderState =
  /** A remote provider, answering and with credit. */
  | 'ACTIVE'
  /** The key has no credit left. */
  | 'CREDITS_EXHAUSTED'
  /** The provider refuses the key. */
  | 'KEY_INVALID'
  /** A remote provider is configured without a key. */
  | 'KEY_MISSING'
  /** No provider key: workers summarize with the embedded summarizer. */
  | 'LOCAL'
  /** The provider asked us to wait (a 429 with Retry-After). */
  | 'RATE_LIMITED'
  /** The provider could not be reached or answered with an error. */
  | 'UNAVAILABLE';

export type ProviderStatus = {
  __typename?: 'ProviderStatus';
  /** When a worker last checked the provider. */
  checkedAt: Scalars['DateTime']['output'];
  /** Credit left on the key, in the provider's unit (USD for OpenRouter); null when unlimited or unknown. */
  creditsRemaining?: Maybe<Scalars['Float']['output']>;
  /** Until when every worker holds its provider calls. */
  rateLimitedUntil?: Maybe<Scalars['DateTime']['output']>;
  state: ProviderState;
};

export type Query = {
  __typename?: 'Query';
  /** Operator actions, newest first. Needs the admin scope. */
  auditLog: AuditConnection;
  /** The budgets the caller may see: every tenant's for an admin, its own otherwise. */
  budgets: Array<Budget>;
  /** The dead letter queue's size per error class: one row per class, in ErrorClass order, zero counts included. */
  deadLetterCounts: Array<DeadLetterCount>;
  /** Tasks in the dead letter queue, oldest first, optionally only those whose last error has this class. */
  deadLetterTasks: TaskConnection;
  /** Each model's breaker: the configured chain in its order, then every other model called. resetCircuitBreakers and openCircuitBreakers act on these too. */
  models: Array<ModelStatus>;
  providerStatus: ProviderStatus;
  queueStatus: QueueStatus;
  /** A task by id, or null when there is none. */
  task?: Maybe<Task>;
  /** Transitions per minute over the last `minutes` (1 to 60, default 15). Queue-wide. */
  taskFlow: TaskFlow;
  /**
   * Tasks in creation order (newest first unless `order` says otherwise), filtered by state, type,
   * creation time (inclusive bounds) or an id prefix (the first characters of an id, as shown in lists).
   * `totalCount` counts every task that matches, across pages.
   */
  tasks: TaskConnection;
  /** Starts and tokens per tenant over the last `minutes` (at most 60; less when the API server has run for less); an admin sees every tenant, a tenant itself. */
  tenantActivity: Array<TenantActivity>;
  /** Every tenant with a policy or work for an admin; the caller's own tenant otherwise. */
  tenantPolicies: Array<TenantPolicy>;
  /** Spend between two instants, grouped; a tenant's key sees its own tenant only. */
  usage: Array<UsageRow>;
  viewer: Viewer;
  /** Workers seen recently, newest heartbeat first. */
  workers: Array<Worker>;
};


export type QueryAuditLogArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryDeadLetterTasksArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  errorClass?: InputMaybe<ErrorClass>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryTaskArgs = {
  id: Scalars['ID']['input'];
};


export type QueryTaskFlowArgs = {
  minutes?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryTasksArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  idPrefix?: InputMaybe<Scalars['String']['input']>;
  order?: InputMaybe<TaskOrder>;
  state?: InputMaybe<TaskState>;
  type?: InputMaybe<TaskType>;
};


export type QueryTenantActivityArgs = {
  minutes?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryUsageArgs = {
  from: Scalars['DateTime']['input'];
  groupBy?: Array<UsageGroup>;
  to: Scalars['DateTime']['input'];
};

export type QueueStatus = {
  __typename?: 'QueueStatus';
  /** Tasks in the dead letter queue. */
  dlq: Scalars['Int']['output'];
  /** Jobs waiting in the primary queue (new tasks). */
  primary: Scalars['Int']['output'];
  /** Jobs waiting in the retry queue. */
  retry: Scalars['Int']['output'];
  /** Share of dispatches given to the retry queue when both queues have work. */
  retryRatio: Scalars['Float']['output'];
  /** Tasks waiting for a delayed retry. */
  scheduled: Scalars['Int']['output'];
  /** How many tasks are in each state. */
  states: Array<StateCount>;
};

/** What an API key lets its holder do. */
export type Scope =
  /** Queue-wide views (queue status, dead letter queue, workers) and operator actions. */
  | 'ADMIN'
  /** Read and watch the tenant's own tasks. */
  | 'TASKS_READ'
  /** Submit tasks and retry, cancel or delete the tenant's own tasks. */
  | 'TASKS_WRITE';

export type StateCount = {
  __typename?: 'StateCount';
  count: Scalars['Int']['output'];
  state: TaskState;
};

export type SubmitTaskInput = {
  /** The text to work on (UTF-8, at most 64 KiB). */
  content: Scalars['String']['input'];
  /** A resend with the same key returns the task the first send created. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /**
   * The models to try, in order, for this task only (instead of OPENROUTER_MODELS). When
   * OPENROUTER_ALLOWED_MODELS is set, each must be one of those; any other is refused with
   * BAD_USER_INPUT and nothing is stored. Null or absent: the configured chain.
   */
  models?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Where the task goes in its tenant's line; NORMAL when not given. */
  priority?: InputMaybe<TaskPriority>;
  type?: InputMaybe<TaskType>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** The model breakers now, then again when one changes, and with fresh counts every SUBSCRIPTION_RESYNC_MS. */
  modelsUpdated: Array<ModelStatus>;
  /** The provider status now, then again whenever it changes. */
  providerStatusUpdated: ProviderStatus;
  /** First a snapshot, then a new status whenever a task changes state (coalesced). */
  queueStatusUpdated: QueueStatus;
  /** The id of every task deleted from now on. */
  taskDeleted: Scalars['ID']['output'];
  /** The last `minutes` of flow (1 to 60, default 15) now, then again after each change (coalesced) and each new minute. */
  taskFlowUpdated: TaskFlow;
  /**
   * The task's output as it is written: every chunk after `after` (from the start when null),
   * then live chunks. Completes after the final chunk, or when the task ends without one
   * (DLQ, CANCELLED, deleted).
   */
  taskOutput: TaskOutputChunk;
  /** The standing of each of these tasks now (at most 100 ids; a task the caller cannot see is left out, as a missing one), then a new one whenever a waiting task's position or reason changes, until it stops waiting (one last standing of nulls). For lists: tasksUpdated brings new versions, this the positions between them. */
  taskStandingsUpdated: TaskStanding;
  /** First the task's current snapshot, then every change in version order. afterVersion skips what the client already has. */
  taskUpdated: Task;
  /** Every change of any task, as it happens (no snapshot): feeds live lists. */
  tasksUpdated: Task;
  /** The workers now, then again whenever a heartbeat changes what they report. */
  workersUpdated: Array<Worker>;
};


export type SubscriptionTaskFlowUpdatedArgs = {
  minutes?: InputMaybe<Scalars['Int']['input']>;
};


export type SubscriptionTaskOutputArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  id: Scalars['ID']['input'];
};


export type SubscriptionTaskStandingsUpdatedArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type SubscriptionTaskUpdatedArgs = {
  afterVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};

export type Task = {
  __typename?: 'Task';
  completedAt?: Maybe<Scalars['DateTime']['output']>;
  content: Scalars['String']['output'];
  createdAt: Scalars['DateTime']['output'];
  errors: Array<TaskError>;
  /** When it should start, from its position and the measured start rate; null without a position, or when nothing started recently. */
  estimatedStartAt?: Maybe<Scalars['DateTime']['output']>;
  /** Every state change, oldest first. */
  history: Array<TaskTransition>;
  id: Scalars['ID']['output'];
  maxRetries: Scalars['Int']['output'];
  /** When a SCHEDULED task's next attempt is due. */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** What the current attempt has written so far; equal to result once COMPLETED. */
  output?: Maybe<Scalars['String']['output']>;
  /** Where it goes in its tenant's line; NORMAL for tasks submitted before priorities existed. */
  priority: TaskPriority;
  /** 0 to 1. */
  progress: Scalars['Float']['output'];
  /** How many tasks the dispatcher would start before this one if nothing else arrived; null when not queued (running, finished, delayed, or its tenant paused). */
  queuePosition?: Maybe<Scalars['Int']['output']>;
  result?: Maybe<Scalars['String']['output']>;
  retryCount: Scalars['Int']['output'];
  /** When waitReason, queuePosition and estimatedStartAt were read. They change without a new version: a live update with the same version and a later standingAt replaces them. Null when the task is not waiting. */
  standingAt?: Maybe<Scalars['DateTime']['output']>;
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  state: TaskState;
  /**
   * The OpenTelemetry trace of the task's submit (32 hex digits): each attempt is a trace linked to
   * it, or part of it with OTEL_TASK_PARENTING=child. Null when the server that took the task did
   * not trace (docs/observability.md).
   */
  traceId?: Maybe<Scalars['String']['output']>;
  type: TaskType;
  updatedAt: Scalars['DateTime']['output'];
  usage?: Maybe<TaskUsage>;
  /** Grows by one with every change; subscribers order and de-duplicate events by it. */
  version: Scalars['Int']['output'];
  /** Why the task waits; null when it is not waiting (running or finished). */
  waitReason?: Maybe<WaitReason>;
  /** The worker that holds (or last held) the task. */
  workerId?: Maybe<Scalars['String']['output']>;
};

export type TaskConnection = {
  __typename?: 'TaskConnection';
  nodes: Array<Task>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

/** One failed attempt. */
export type TaskError = {
  __typename?: 'TaskError';
  at: Scalars['DateTime']['output'];
  /** 1-based attempt number that failed. */
  attempt: Scalars['Int']['output'];
  errorClass: ErrorClass;
  /** HTTP status the provider answered with, when there was one. */
  httpStatus?: Maybe<Scalars['Int']['output']>;
  message: Scalars['String']['output'];
  /** When the retry this failure led to is due; null when the task went to the dead letter queue. */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
};

/** Recent task flow: per-minute transition counts, oldest minute first, the current (partial) minute last. */
export type TaskFlow = {
  __typename?: 'TaskFlow';
  /** When this was read (Redis' clock). */
  at: Scalars['DateTime']['output'];
  buckets: Array<FlowBucket>;
  minutes: Scalars['Int']['output'];
};

/** Creation order of a listing. */
export type TaskOrder =
  | 'NEWEST_FIRST'
  | 'OLDEST_FIRST';

/**
 * A piece of a task's output, as the model writes it. Chunks of one attempt, appended in order,
 * give what that attempt has written; a chunk with `reset` starts a new attempt's text.
 */
export type TaskOutputChunk = {
  __typename?: 'TaskOutputChunk';
  /** The attempt that wrote this text, 1-based. */
  attempt: Scalars['Int']['output'];
  /** Opaque. Pass it as `after` to resume right after this chunk. */
  cursor: Scalars['String']['output'];
  /** True on the last chunk of the attempt whose text became the result. */
  final: Scalars['Boolean']['output'];
  /**
   * The model writing this attempt (the response's `model`), on the chunk that starts the
   * attempt's text (`reset`); null on the chunks after it, and for providers without models.
   */
  model?: Maybe<Scalars['String']['output']>;
  /** True on the first chunk of a new attempt: drop the text of earlier attempts. */
  reset: Scalars['Boolean']['output'];
  taskId: Scalars['ID']['output'];
  /** Text to append to what this attempt has written so far. */
  text: Scalars['String']['output'];
};

/** How urgent a task is within its own tenant's line (see docs/dispatch.md). */
export type TaskPriority =
  /** Counts as submitted PRIORITY_OFFSET_MS earlier. */
  | 'HIGH'
  /** Counts as submitted PRIORITY_OFFSET_MS later. */
  | 'LOW'
  | 'NORMAL';

/** Where one task stands now (taskStandingsUpdated); every field null but taskId and at once it no longer waits. */
export type TaskStanding = {
  __typename?: 'TaskStanding';
  /** When it was read. */
  at: Scalars['DateTime']['output'];
  estimatedStartAt?: Maybe<Scalars['DateTime']['output']>;
  queuePosition?: Maybe<Scalars['Int']['output']>;
  taskId: Scalars['ID']['output'];
  waitReason?: Maybe<WaitReason>;
};

/** Where a task is in its life. COMPLETED, DLQ and CANCELLED are terminal. */
export type TaskState =
  /** Leased by a worker, which is running it now. */
  | 'ACTIVE'
  /** Cancelled before it finished. */
  | 'CANCELLED'
  /** Finished with a result. */
  | 'COMPLETED'
  /** Failed for good (dead letter queue). */
  | 'DLQ'
  /** Accepted and waiting in a queue. */
  | 'PENDING'
  /** Failed with a retryable error; waiting for its next attempt. */
  | 'SCHEDULED';

/** One state change in a task's life. */
export type TaskTransition = {
  __typename?: 'TaskTransition';
  at: Scalars['DateTime']['output'];
  /** That model's place in the chain the attempt ran (0-based); null with `model`, or when the model is not in the chain. */
  chainIndex?: Maybe<Scalars['Int']['output']>;
  /**
   * On a transition that ends an attempt (COMPLETED, a failure): the model that answered its
   * provider call (the response's `model`, which may be a fallback OpenRouter chose); null when
   * no call answered, and on other transitions.
   */
  model?: Maybe<Scalars['String']['output']>;
  /** Why the change happened (claimed, completed, an error class, ...). */
  reason?: Maybe<Scalars['String']['output']>;
  state: TaskState;
  /** Set when the task's next attempt moves to another model of its chain: why. */
  switchReason?: Maybe<ModelSwitchReason>;
  /** The task version this transition produced. */
  version: Scalars['Int']['output'];
  /** The worker that made the change, when a worker made it. */
  workerId?: Maybe<Scalars['String']['output']>;
};

/** What a task does. Each type has its own worker handler. */
export type TaskType =
  | 'SUMMARIZE';

/** What the task's provider calls used, every attempt added up (the model is the last call's). */
export type TaskUsage = {
  __typename?: 'TaskUsage';
  cachedTokens?: Maybe<Scalars['Int']['output']>;
  /** Provider calls that were billed or may have been. */
  calls: Scalars['Int']['output'];
  completionTokens?: Maybe<Scalars['Int']['output']>;
  /** Every attempt's spend added up: failed attempts were billed too. */
  costUsd?: Maybe<Scalars['Float']['output']>;
  /** True when some figure is an estimate (a call cut off before the provider reported usage). */
  estimated: Scalars['Boolean']['output'];
  model: Scalars['String']['output'];
  /** The task's provider calls, oldest first (the last 50; `calls` counts them all): its model, chain place and cost. */
  perCall: Array<UsageCall>;
  promptTokens?: Maybe<Scalars['Int']['output']>;
  reasoningTokens?: Maybe<Scalars['Int']['output']>;
  totalTokens?: Maybe<Scalars['Int']['output']>;
};

/** What one tenant started over a recent window: its share of starts and of estimated tokens. */
export type TenantActivity = {
  __typename?: 'TenantActivity';
  /** Its part of every tenant's starts in the window, 0 to 1. */
  startShare: Scalars['Float']['output'];
  starts: Scalars['Int']['output'];
  tenant: Scalars['String']['output'];
  /** Its part of every tenant's tokens in the window, 0 to 1. */
  tokenShare: Scalars['Float']['output'];
  /** Estimated tokens (prompt plus MAX_COMPLETION_TOKENS) of the tasks it started. */
  tokens: Scalars['Float']['output'];
};

/** How a tenant shares the workers. Defaults: weight 1, no cap, not paused. */
export type TenantPolicy = {
  __typename?: 'TenantPolicy';
  /** Attempts running now (holding a live lease). */
  active: Scalars['Int']['output'];
  /** At most this many attempts at once; null for no cap. */
  maxConcurrency?: Maybe<Scalars['Int']['output']>;
  /** No new starts while paused; running attempts finish and waiting tasks keep their places. */
  paused: Scalars['Boolean']['output'];
  tenant: Scalars['String']['output'];
  /** Tasks waiting to start (queued or due), not counting delayed retries. */
  waiting: Scalars['Int']['output'];
  /** Its share of tokens against other backlogged tenants, 1 to 1000. */
  weight: Scalars['Int']['output'];
};

/** A change to a tenant's policy; fields left out keep their value. */
export type TenantPolicyInput = {
  /** At least 1; null removes the cap. */
  maxConcurrency?: InputMaybe<Scalars['Int']['input']>;
  paused?: InputMaybe<Scalars['Boolean']['input']>;
  weight?: InputMaybe<Scalars['Int']['input']>;
};

/** One provider call of a task, as the ledger recorded it (oldest first in `TaskUsage.perCall`). */
export type UsageCall = {
  __typename?: 'UsageCall';
  at: Scalars['DateTime']['output'];
  /** The attempt that made the call, 1-based. */
  attempt: Scalars['Int']['output'];
  /** That model's place in the chain the attempt ran (0-based); null when it is not in the chain. */
  chainIndex?: Maybe<Scalars['Int']['output']>;
  completionTokens: Scalars['Int']['output'];
  costUsd: Scalars['Float']['output'];
  /** True when the figures are an estimate (the call was cut off before the provider reported usage). */
  estimated: Scalars['Boolean']['output'];
  /** The provider's id of the call (OpenRouter: gen-...), when it named one. */
  generationId?: Maybe<Scalars['String']['output']>;
  /** The model that answered (the response's `model`); the call is priced at this model. */
  model: Scalars['String']['output'];
  promptTokens: Scalars['Int']['output'];
  /** Why this attempt ran on another model than the attempt before it; null when it did not switch. */
  switchReason?: Maybe<ModelSwitchReason>;
};

/** What `usage` rows are grouped by. */
export type UsageGroup =
  | 'API_KEY'
  | 'DAY'
  | 'MODEL'
  | 'TENANT';

/** Spend of one group in a time range; the fields not grouped by are null. */
export type UsageRow = {
  __typename?: 'UsageRow';
  apiKeyId?: Maybe<Scalars['String']['output']>;
  calls: Scalars['Int']['output'];
  completionTokens: Scalars['Float']['output'];
  costUsd: Scalars['Float']['output'];
  /** The UTC day, YYYY-MM-DD. */
  day?: Maybe<Scalars['String']['output']>;
  /** Calls whose figures are an estimate: the provider never reported them (their worker died before the answer named the call). */
  estimatedCalls: Scalars['Int']['output'];
  /** The part of costUsd that is estimated. */
  estimatedCostUsd: Scalars['Float']['output'];
  model?: Maybe<Scalars['String']['output']>;
  promptTokens: Scalars['Float']['output'];
  /** Tasks whose first billed call fell in the range. */
  tasks: Scalars['Int']['output'];
  tenant?: Maybe<Scalars['String']['output']>;
};

/** Who the server takes the caller to be. */
export type Viewer = {
  __typename?: 'Viewer';
  /** False when the server runs without API keys: every caller is then the anonymous tenant with every scope. */
  authenticationRequired: Scalars['Boolean']['output'];
  scopes: Array<Scope>;
  /** The tenant whose tasks this caller sees. */
  tenant: Scalars['String']['output'];
  /** The server's TRACE_URL_TEMPLATE: a trace viewer's URL with {traceId} (or {taskId}) to fill in; null when not set. */
  traceUrlTemplate?: Maybe<Scalars['String']['output']>;
};

/** Why a task is waiting instead of running. */
export type WaitReason =
  /** Its tenant's spend budget is used up. */
  | 'BUDGET'
  /** The provider's circuit breaker is open. */
  | 'CIRCUIT_OPEN'
  /** The provider asked every worker to hold its calls (a 429's or a 402's Retry-After), or the call rate limit is spent. */
  | 'PROVIDER_HOLD'
  /** The provider token limit (PROVIDER_TOKEN_LIMIT) has no room for it yet. */
  | 'PROVIDER_TOKENS'
  /** Behind other tasks in the dispatcher's order. */
  | 'QUEUED'
  /** Waiting out the delay before a retry. */
  | 'RETRY_DELAY'
  /** Its tenant runs as many attempts as its maxConcurrency allows. */
  | 'TENANT_CAP'
  /** Its tenant is paused. */
  | 'TENANT_PAUSED';

/** A worker process, as its heartbeats report it. */
export type Worker = {
  __typename?: 'Worker';
  activeTasks: Scalars['Int']['output'];
  /** Its last heartbeat is younger than the server's WORKER_STALE_MS. */
  alive: Scalars['Boolean']['output'];
  circuit: CircuitStatus;
  concurrency: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  lastHeartbeatAt: Scalars['DateTime']['output'];
};



export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  AuditConnection: ResolverTypeWrapper<AuditConnection>;
  AuditRecord: ResolverTypeWrapper<AuditRecord>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  Budget: ResolverTypeWrapper<Budget>;
  BudgetPeriod: BudgetPeriod;
  CircuitState: CircuitState;
  CircuitStatus: ResolverTypeWrapper<CircuitSnapshot>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DeadLetterCount: ResolverTypeWrapper<DeadLetterCount>;
  ErrorClass: ErrorClass;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  FlowBucket: ResolverTypeWrapper<FlowBucket>;
  FlowCount: ResolverTypeWrapper<FlowCount>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  ModelStatus: ResolverTypeWrapper<ModelStatusView>;
  ModelSwitchReason: ModelSwitchReason;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  ProviderState: ProviderState;
  ProviderStatus: ResolverTypeWrapper<ProviderStatusSnapshot>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  QueueStatus: ResolverTypeWrapper<QueueStatusSnapshot>;
  Scope: Scope;
  StateCount: ResolverTypeWrapper<StateCount>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  SubmitTaskInput: SubmitTaskInput;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Task: ResolverTypeWrapper<TaskRecord>;
  TaskConnection: ResolverTypeWrapper<Omit<TaskConnection, 'nodes'> & { nodes: Array<ResolversTypes['Task']> }>;
  TaskError: ResolverTypeWrapper<TaskErrorRecord>;
  TaskFlow: ResolverTypeWrapper<TaskFlow>;
  TaskOrder: TaskOrder;
  TaskOutputChunk: ResolverTypeWrapper<TaskOutputChunk>;
  TaskPriority: TaskPriority;
  TaskStanding: ResolverTypeWrapper<TaskStandingView>;
  TaskState: TaskState;
  TaskTransition: ResolverTypeWrapper<TaskEvent>;
  TaskType: TaskType;
  TaskUsage: ResolverTypeWrapper<TaskUsage>;
  TenantActivity: ResolverTypeWrapper<TenantActivity>;
  TenantPolicy: ResolverTypeWrapper<TenantPolicy>;
  TenantPolicyInput: TenantPolicyInput;
  UsageCall: ResolverTypeWrapper<UsageCall>;
  UsageGroup: UsageGroup;
  UsageRow: ResolverTypeWrapper<UsageRow>;
  Viewer: ResolverTypeWrapper<Viewer>;
  WaitReason: WaitReason;
  Worker: ResolverTypeWrapper<WorkerView>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  AuditConnection: AuditConnection;
  AuditRecord: AuditRecord;
  Boolean: Scalars['Boolean']['output'];
  Budget: Budget;
  CircuitStatus: CircuitSnapshot;
  DateTime: Scalars['DateTime']['output'];
  DeadLetterCount: DeadLetterCount;
  Float: Scalars['Float']['output'];
  FlowBucket: FlowBucket;
  FlowCount: FlowCount;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  ModelStatus: ModelStatusView;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  ProviderStatus: ProviderStatusSnapshot;
  Query: Record<PropertyKey, never>;
  QueueStatus: QueueStatusSnapshot;
  StateCount: StateCount;
  String: Scalars['String']['output'];
  SubmitTaskInput: SubmitTaskInput;
  Subscription: Record<PropertyKey, never>;
  Task: TaskRecord;
  TaskConnection: Omit<TaskConnection, 'nodes'> & { nodes: Array<ResolversParentTypes['Task']> };
  TaskError: TaskErrorRecord;
  TaskFlow: TaskFlow;
  TaskOutputChunk: TaskOutputChunk;
  TaskStanding: TaskStandingView;
  TaskTransition: TaskEvent;
  TaskUsage: TaskUsage;
  TenantActivity: TenantActivity;
  TenantPolicy: TenantPolicy;
  TenantPolicyInput: TenantPolicyInput;
  UsageCall: UsageCall;
  UsageRow: UsageRow;
  Viewer: Viewer;
  Worker: WorkerView;
};

export type AuditConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AuditConnection'] = ResolversParentTypes['AuditConnection']> = {
  nodes?: Resolver<Array<ResolversTypes['AuditRecord']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
};

export type AuditRecordResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AuditRecord'] = ResolversParentTypes['AuditRecord']> = {
  action?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  actor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  detail?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  target?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type BudgetResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Budget'] = ResolversParentTypes['Budget']> = {
  limitUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  period?: Resolver<ResolversTypes['BudgetPeriod'], ParentType, ContextType>;
  reservedUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  resetsAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  spentUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type CircuitStatusResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['CircuitStatus'] = ResolversParentTypes['CircuitStatus']> = {
  failures?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  halfOpenAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  openedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['CircuitState'], ParentType, ContextType>;
};

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DeadLetterCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeadLetterCount'] = ResolversParentTypes['DeadLetterCount']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  errorClass?: Resolver<ResolversTypes['ErrorClass'], ParentType, ContextType>;
};

export type FlowBucketResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['FlowBucket'] = ResolversParentTypes['FlowBucket']> = {
  start?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  transitions?: Resolver<Array<ResolversTypes['FlowCount']>, ParentType, ContextType>;
};

export type FlowCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['FlowCount'] = ResolversParentTypes['FlowCount']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  from?: Resolver<Maybe<ResolversTypes['TaskState']>, ParentType, ContextType>;
  to?: Resolver<Maybe<ResolversTypes['TaskState']>, ParentType, ContextType>;
};

export type ModelStatusResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ModelStatus'] = ResolversParentTypes['ModelStatus']> = {
  calls?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  configured?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  failureRate?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  failures?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  halfOpenAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  model?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  openedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['CircuitState'], ParentType, ContextType>;
};

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  cancelTask?: Resolver<ResolversTypes['Task'], ParentType, ContextType, RequireFields<MutationCancelTaskArgs, 'id'>>;
  deleteTask?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteTaskArgs, 'id'>>;
  openCircuitBreakers?: Resolver<Array<ResolversTypes['Worker']>, ParentType, ContextType>;
  purgeDeadLetterQueue?: Resolver<ResolversTypes['Int'], ParentType, ContextType, RequireFields<MutationPurgeDeadLetterQueueArgs, 'confirm'>>;
  resetCircuitBreakers?: Resolver<Array<ResolversTypes['Worker']>, ParentType, ContextType>;
  retryDeadLetterTasks?: Resolver<ResolversTypes['Int'], ParentType, ContextType, Partial<MutationRetryDeadLetterTasksArgs>>;
  retryTask?: Resolver<ResolversTypes['Task'], ParentType, ContextType, RequireFields<MutationRetryTaskArgs, 'id' | 'resetRetryCount'>>;
  setBudget?: Resolver<Maybe<ResolversTypes['Budget']>, ParentType, ContextType, RequireFields<MutationSetBudgetArgs, 'period' | 'tenant'>>;
  setTenantPolicy?: Resolver<ResolversTypes['TenantPolicy'], ParentType, ContextType, RequireFields<MutationSetTenantPolicyArgs, 'input' | 'tenant'>>;
  submitTask?: Resolver<ResolversTypes['Task'], ParentType, ContextType, RequireFields<MutationSubmitTaskArgs, 'input'>>;
};

export type PageInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type ProviderStatusResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ProviderStatus'] = ResolversParentTypes['ProviderStatus']> = {
  checkedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  creditsRemaining?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  rateLimitedUntil?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['ProviderState'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  auditLog?: Resolver<ResolversTypes['AuditConnection'], ParentType, ContextType, Partial<QueryAuditLogArgs>>;
  budgets?: Resolver<Array<ResolversTypes['Budget']>, ParentType, ContextType>;
  deadLetterCounts?: Resolver<Array<ResolversTypes['DeadLetterCount']>, ParentType, ContextType>;
  deadLetterTasks?: Resolver<ResolversTypes['TaskConnection'], ParentType, ContextType, Partial<QueryDeadLetterTasksArgs>>;
  models?: Resolver<Array<ResolversTypes['ModelStatus']>, ParentType, ContextType>;
  providerStatus?: Resolver<ResolversTypes['ProviderStatus'], ParentType, ContextType>;
  queueStatus?: Resolver<ResolversTypes['QueueStatus'], ParentType, ContextType>;
  task?: Resolver<Maybe<ResolversTypes['Task']>, ParentType, ContextType, RequireFields<QueryTaskArgs, 'id'>>;
  taskFlow?: Resolver<ResolversTypes['TaskFlow'], ParentType, ContextType, RequireFields<QueryTaskFlowArgs, 'minutes'>>;
  tasks?: Resolver<ResolversTypes['TaskConnection'], ParentType, ContextType, RequireFields<QueryTasksArgs, 'order'>>;
  tenantActivity?: Resolver<Array<ResolversTypes['TenantActivity']>, ParentType, ContextType, RequireFields<QueryTenantActivityArgs, 'minutes'>>;
  tenantPolicies?: Resolver<Array<ResolversTypes['TenantPolicy']>, ParentType, ContextType>;
  usage?: Resolver<Array<ResolversTypes['UsageRow']>, ParentType, ContextType, RequireFields<QueryUsageArgs, 'from' | 'groupBy' | 'to'>>;
  viewer?: Resolver<ResolversTypes['Viewer'], ParentType, ContextType>;
  workers?: Resolver<Array<ResolversTypes['Worker']>, ParentType, ContextType>;
};

export type QueueStatusResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['QueueStatus'] = ResolversParentTypes['QueueStatus']> = {
  dlq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  primary?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  retry?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  retryRatio?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  scheduled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  states?: Resolver<Array<ResolversTypes['StateCount']>, ParentType, ContextType>;
};

export type StateCountResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['StateCount'] = ResolversParentTypes['StateCount']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['TaskState'], ParentType, ContextType>;
};

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  modelsUpdated?: SubscriptionResolver<Array<ResolversTypes['ModelStatus']>, "modelsUpdated", ParentType, ContextType>;
  providerStatusUpdated?: SubscriptionResolver<ResolversTypes['ProviderStatus'], "providerStatusUpdated", ParentType, ContextType>;
  queueStatusUpdated?: SubscriptionResolver<ResolversTypes['QueueStatus'], "queueStatusUpdated", ParentType, ContextType>;
  taskDeleted?: SubscriptionResolver<ResolversTypes['ID'], "taskDeleted", ParentType, ContextType>;
  taskFlowUpdated?: SubscriptionResolver<ResolversTypes['TaskFlow'], "taskFlowUpdated", ParentType, ContextType, RequireFields<SubscriptionTaskFlowUpdatedArgs, 'minutes'>>;
  taskOutput?: SubscriptionResolver<ResolversTypes['TaskOutputChunk'], "taskOutput", ParentType, ContextType, RequireFields<SubscriptionTaskOutputArgs, 'id'>>;
  taskStandingsUpdated?: SubscriptionResolver<ResolversTypes['TaskStanding'], "taskStandingsUpdated", ParentType, ContextType, RequireFields<SubscriptionTaskStandingsUpdatedArgs, 'ids'>>;
  taskUpdated?: SubscriptionResolver<ResolversTypes['Task'], "taskUpdated", ParentType, ContextType, RequireFields<SubscriptionTaskUpdatedArgs, 'id'>>;
  tasksUpdated?: SubscriptionResolver<ResolversTypes['Task'], "tasksUpdated", ParentType, ContextType>;
  workersUpdated?: SubscriptionResolver<Array<ResolversTypes['Worker']>, "workersUpdated", ParentType, ContextType>;
};

export type TaskResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Task'] = ResolversParentTypes['Task']> = {
  completedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  content?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  errors?: Resolver<Array<ResolversTypes['TaskError']>, ParentType, ContextType>;
  estimatedStartAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  history?: Resolver<Array<ResolversTypes['TaskTransition']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  maxRetries?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  output?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  priority?: Resolver<ResolversTypes['TaskPriority'], ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  queuePosition?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  result?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  retryCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  standingAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['TaskState'], ParentType, ContextType>;
  traceId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  type?: Resolver<ResolversTypes['TaskType'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  usage?: Resolver<Maybe<ResolversTypes['TaskUsage']>, ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  waitReason?: Resolver<Maybe<ResolversTypes['WaitReason']>, ParentType, ContextType>;
  workerId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type TaskConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskConnection'] = ResolversParentTypes['TaskConnection']> = {
  nodes?: Resolver<Array<ResolversTypes['Task']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type TaskErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskError'] = ResolversParentTypes['TaskError']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  errorClass?: Resolver<ResolversTypes['ErrorClass'], ParentType, ContextType>;
  httpStatus?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
};

export type TaskFlowResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskFlow'] = ResolversParentTypes['TaskFlow']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  buckets?: Resolver<Array<ResolversTypes['FlowBucket']>, ParentType, ContextType>;
  minutes?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type TaskOutputChunkResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskOutputChunk'] = ResolversParentTypes['TaskOutputChunk']> = {
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  final?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  reset?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  taskId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  text?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type TaskStandingResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskStanding'] = ResolversParentTypes['TaskStanding']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  estimatedStartAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  queuePosition?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  taskId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  waitReason?: Resolver<Maybe<ResolversTypes['WaitReason']>, ParentType, ContextType>;
};

export type TaskTransitionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskTransition'] = ResolversParentTypes['TaskTransition']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  chainIndex?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  reason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['TaskState'], ParentType, ContextType>;
  switchReason?: Resolver<Maybe<ResolversTypes['ModelSwitchReason']>, ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  workerId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type TaskUsageResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TaskUsage'] = ResolversParentTypes['TaskUsage']> = {
  cachedTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  calls?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  completionTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  costUsd?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  estimated?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  model?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  perCall?: Resolver<Array<ResolversTypes['UsageCall']>, ParentType, ContextType>;
  promptTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  reasoningTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  totalTokens?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type TenantActivityResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TenantActivity'] = ResolversParentTypes['TenantActivity']> = {
  startShare?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  starts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  tokenShare?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  tokens?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export type TenantPolicyResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['TenantPolicy'] = ResolversParentTypes['TenantPolicy']> = {
  active?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  maxConcurrency?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  paused?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  waiting?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  weight?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type UsageCallResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UsageCall'] = ResolversParentTypes['UsageCall']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  chainIndex?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  completionTokens?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  costUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  estimated?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  generationId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  model?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  promptTokens?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  switchReason?: Resolver<Maybe<ResolversTypes['ModelSwitchReason']>, ParentType, ContextType>;
};

export type UsageRowResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UsageRow'] = ResolversParentTypes['UsageRow']> = {
  apiKeyId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  calls?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  completionTokens?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  costUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  day?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  estimatedCalls?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  estimatedCostUsd?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  promptTokens?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  tasks?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  tenant?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type ViewerResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Viewer'] = ResolversParentTypes['Viewer']> = {
  authenticationRequired?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  scopes?: Resolver<Array<ResolversTypes['Scope']>, ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  traceUrlTemplate?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type WorkerResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Worker'] = ResolversParentTypes['Worker']> = {
  activeTasks?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  alive?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  circuit?: Resolver<ResolversTypes['CircuitStatus'], ParentType, ContextType>;
  concurrency?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastHeartbeatAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type Resolvers<ContextType = GraphQLContext> = {
  AuditConnection?: AuditConnectionResolvers<ContextType>;
  AuditRecord?: AuditRecordResolvers<ContextType>;
  Budget?: BudgetResolvers<ContextType>;
  CircuitStatus?: CircuitStatusResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  DeadLetterCount?: DeadLetterCountResolvers<ContextType>;
  FlowBucket?: FlowBucketResolvers<ContextType>;
  FlowCount?: FlowCountResolvers<ContextType>;
  ModelStatus?: ModelStatusResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  ProviderStatus?: ProviderStatusResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  QueueStatus?: QueueStatusResolvers<ContextType>;
  StateCount?: StateCountResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  Task?: TaskResolvers<ContextType>;
  TaskConnection?: TaskConnectionResolvers<ContextType>;
  TaskError?: TaskErrorResolvers<ContextType>;
  TaskFlow?: TaskFlowResolvers<ContextType>;
  TaskOutputChunk?: TaskOutputChunkResolvers<ContextType>;
  TaskStanding?: TaskStandingResolvers<ContextType>;
  TaskTransition?: TaskTransitionResolvers<ContextType>;
  TaskUsage?: TaskUsageResolvers<ContextType>;
  TenantActivity?: TenantActivityResolvers<ContextType>;
  TenantPolicy?: TenantPolicyResolvers<ContextType>;
  UsageCall?: UsageCallResolvers<ContextType>;
  UsageRow?: UsageRowResolvers<ContextType>;
  Viewer?: ViewerResolvers<ContextType>;
  Worker?: WorkerResolvers<ContextType>;
};

