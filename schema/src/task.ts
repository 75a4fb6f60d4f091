/**
 * The task record every process agrees on: its states, its shape in Redis, and the
 * event payload published on every change. No I/O here.
 */
import { z } from 'zod';
import { DispatchLane, TASK_PRIORITIES, TaskPriority, taskPrioritySchema, WAIT_REASONS, waitReasonSchema, type WaitReason } from './dispatch.ts';

export const TaskState = {
  PENDING: 'PENDING',
  ACTIVE: 'ACTIVE',
  SCHEDULED: 'SCHEDULED',
  COMPLETED: 'COMPLETED',
  DLQ: 'DLQ',
  CANCELLED: 'CANCELLED',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export const TASK_STATES = Object.values(TaskState);

const taskStateSchema = z.enum(TaskState);

/**
 * A state as Redis stores it, checked: the TaskState it names, or undefined when it names none
 * (a state written by a newer version during a rolling upgrade, a hand-edited key). Each caller
 * decides what an unknown state means for it; none may treat it as a known one.
 */
export function parseTaskState(value: string): TaskState | undefined {
  const parsed = taskStateSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** States a task never leaves on its own (an operator's retry reopens DLQ and CANCELLED). */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.COMPLETED,
  TaskState.DLQ,
  TaskState.CANCELLED,
]);

export const TaskType = { SUMMARIZE: 'SUMMARIZE' } as const;
export type TaskType = (typeof TaskType)[keyof typeof TaskType];
export const TASK_TYPES = Object.values(TaskType);

export const ErrorClass = {
  INSUFFICIENT_CREDITS: 'INSUFFICIENT_CREDITS',
  RATE_LIMIT: 'RATE_LIMIT',
  MODEL_WARMUP: 'MODEL_WARMUP',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  NETWORK_TIMEOUT: 'NETWORK_TIMEOUT',
  PROVIDER_ERROR: 'PROVIDER_ERROR',
  CONTENT_FILTER: 'CONTENT_FILTER',
  PERMANENT: 'PERMANENT',
  OUTPUT_TOO_LARGE: 'OUTPUT_TOO_LARGE',
  /** OpenRouter's 402 weight_exceeds_budget: this one request costs more than the whole in-flight budget. */
  REQUEST_OVER_BUDGET: 'REQUEST_OVER_BUDGET',
  STALLED: 'STALLED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];
export const ERROR_CLASSES = Object.values(ErrorClass);

/** One failed attempt, as it crosses Redis: never a stack trace. */
export const taskErrorSchema = z.object({
  errorClass: z.enum(ErrorClass),
  message: z.string(),
  httpStatus: z.number().int().nullable(),
  attempt: z.number().int(),
  at: z.number(),
  /** When the retry this failure led to is due (Redis time); null when it went to the DLQ. */
  nextAttemptAt: z.number().nullable().default(null),
});
export type TaskErrorRecord = z.infer<typeof taskErrorSchema>;

export const taskUsageSchema = z.object({
  model: z.string(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  totalTokens: z.number().int().nullable(),
});
export type TaskUsage = z.infer<typeof taskUsageSchema>;

const optionalNumber = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? null : Number(value)));
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? null : value));
/**
 * An enum field that may be absent (a record from before the field existed) or name a value this
 * version does not know (a newer writer's during a rolling upgrade): `fallback` then, never an error.
 */
const enumField = <T extends string, F extends T | null>(schema: z.ZodType<T>, fallback: F) =>
  z
    .string()
    .optional()
    .transform((value): T | F => {
      const parsed = schema.safeParse(value);
      return parsed.success ? parsed.data : fallback;
    });
const jsonField = <T extends z.ZodType>(schema: T, fallback: z.infer<T>) =>
  z
    .string()
    .optional()
    .transform((value): z.infer<T> => (value ? schema.parse(JSON.parse(value)) : fallback));

/**
 * The task hash as Redis stores it (every value a string), parsed into a typed record.
 * Times are epoch milliseconds taken from Redis' own clock, so workers on skewed hosts agree.
 * `content` is absent from published events (it can be 64 KiB): readers load it on demand.
 */
export const taskHashSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  type: z.enum(TaskType),
  state: taskStateSchema,
  version: z.coerce.number().int(),
  content: z.string().optional(),
  result: optionalString,
  progress: z.coerce.number(),
  retryCount: z.coerce.number().int(),
  maxRetries: z.coerce.number().int(),
  attempt: z.coerce.number().int(),
  /** How many times an operator sent the task back to work. */
  reopens: z.coerce.number().int().default(0),
  errors: jsonField(z.array(taskErrorSchema), []),
  usage: jsonField(taskUsageSchema.nullable(), null),
  workerId: optionalString,
  leaseExpiresAt: optionalNumber,
  nextAttemptAt: optionalNumber,
  createdAt: z.coerce.number(),
  updatedAt: z.coerce.number(),
  startedAt: optionalNumber,
  completedAt: optionalNumber,
  idempotencyKey: optionalString,
  /** The submit's W3C trace context (`traceparent`), when the server traced it (schema/src/trace-context.ts). */
  trace: optionalString,
  /** The error class a DLQ task is filed under (its last error's). */
  dlqClass: z.enum(ErrorClass).optional().transform((value) => value ?? null),
  /** The API key that submitted it ('anonymous' without keys); absent on tasks from before. */
  apiKeyId: optionalString,
  /** Every provider call's usage added up (recordUsage in scripts/usage.ts); absent before the first. */
  usageCalls: optionalNumber,
  usagePromptTokens: optionalNumber,
  usageCompletionTokens: optionalNumber,
  usageCachedTokens: optionalNumber,
  usageReasoningTokens: optionalNumber,
  usageCostNano: optionalNumber,
  usageModel: optionalString,
  usageEstimated: z
    .string()
    .optional()
    .transform((value) => value === '1'),
  /** Where it goes in its tenant's line (docs/dispatch.md); NORMAL for a task from before priorities. */
  priority: enumField(taskPrioritySchema, TaskPriority.NORMAL),
  /** Its cost to the dispatcher: estimated prompt tokens plus MAX_COMPLETION_TOKENS (absent before the dispatcher). */
  cost: optionalNumber,
  /** The dispatcher line it waits in ('new' or 'retry'); null when it waits in none (running, delayed, finished). */
  queued: enumField(z.enum([DispatchLane.NEW, DispatchLane.RETRY]), null),
  /** Why a deferred or retrying task waits (the defer and fail scripts store it; a claim clears it). */
  waitReason: enumField(waitReasonSchema, null),
  /** Its model chain and place in it, raw (schema/src/model-chain.ts `decodeTaskChain`); absent: the configured chain from its start. */
  chain: optionalString,
  /** Its provider calls, one line each, raw (schema/src/model-chain.ts `parseUsageLog`). */
  usageLog: optionalString,
});
export type TaskRecord = z.infer<typeof taskHashSchema>;

/** A task hash (or published event) that `parseTaskHash` cannot read: which field, and why. */
export class MalformedTaskHashError extends Error {
  override name = 'MalformedTaskHashError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`malformed task hash: ${field} ${reason}`);
  }
}

// The decoder below answers exactly what taskHashSchema.parse answers (task.test.ts holds the
// two together, field by field), with no allocation beyond the record: zod allocates about
// 11 KB to parse one 650-byte event. The server parses every task event for its feeds, and
// under a burst to a subscriber that stopped reading (its queued records survive young-
// generation collections) V8 pretenures those allocation sites: zod's garbage then went
// straight to the old generation, 18.7 MB of it over 2,300 events (docs/performance.md).
type RawHash = Readonly<Record<string, unknown>>;
const TYPES: ReadonlySet<unknown> = new Set(TASK_TYPES);
const STATES: ReadonlySet<unknown> = new Set(TASK_STATES);
const ERROR_CLASS_SET: ReadonlySet<unknown> = new Set(ERROR_CLASSES);
const taskErrorsSchema = z.array(taskErrorSchema);
const PRIORITY_SET: ReadonlySet<unknown> = new Set(TASK_PRIORITIES);
const LANE_SET: ReadonlySet<unknown> = new Set(Object.values(DispatchLane));
const WAIT_REASON_SET: ReadonlySet<unknown> = new Set(WAIT_REASONS);

function text(hash: RawHash, field: string): string {
  const value = hash[field];
  if (typeof value !== 'string') throw new MalformedTaskHashError(field, 'is not a string');
  return value;
}

/** An optional string field: absent or '' is undefined. */
function optionalText(hash: RawHash, field: string): string | undefined {
  const value = hash[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new MalformedTaskHashError(field, 'is not a string');
  return value === '' ? undefined : value;
}

/** An optional enum field (`enumField`): absent, or a string it does not know, is `fallback`; any other type fails. */
function oneOfOr<T, F>(hash: RawHash, field: string, allowed: ReadonlySet<unknown>, fallback: F): T | F {
  const value = hash[field];
  if (value !== undefined && typeof value !== 'string') throw new MalformedTaskHashError(field, 'is not a string');
  return allowed.has(value) ? (value as T) : fallback;
}

function oneOf<T>(hash: RawHash, field: string, allowed: ReadonlySet<unknown>): T {
  const value = hash[field];
  if (!allowed.has(value)) throw new MalformedTaskHashError(field, `is not one of ${[...allowed].join(', ')}`);
  return value as T;
}

/** A required number, coerced as `z.coerce.number()` does (and `.int()`: a safe integer). */
function coerced(hash: RawHash, field: string, integer: boolean): number {
  const value = Number(hash[field]);
  if (integer ? !Number.isSafeInteger(value) : !Number.isFinite(value)) throw new MalformedTaskHashError(field, `is not ${integer ? 'an integer' : 'a number'}`);
  return value;
}

/** An optional number written as a string: absent or '' is null; as before, unchecked beyond that. */
function optionalNumeral(hash: RawHash, field: string): number | null {
  const value = optionalText(hash, field);
  return value === undefined ? null : Number(value);
}

const isTokenCount = (value: unknown) => value === null || Number.isSafeInteger(value);

function usageOf(json: string | undefined): TaskUsage | null {
  if (json === undefined) return null;
  const usage = JSON.parse(json) as Record<string, unknown> | null;
  if (usage === null) return null;
  const { model, promptTokens, completionTokens, totalTokens } = usage;
  if (typeof model !== 'string' || !isTokenCount(promptTokens) || !isTokenCount(completionTokens) || !isTokenCount(totalTokens)) {
    throw new MalformedTaskHashError('usage', 'is not a usage record');
  }
  return { model, promptTokens, completionTokens, totalTokens } as TaskUsage;
}

/**
 * Parses a task hash (HGETALL result or a published event) as `taskHashSchema` describes it.
 * Throws a MalformedTaskHashError (a ZodError or SyntaxError inside `errors`) when malformed.
 */
export function parseTaskHash(fields: RawHash): TaskRecord {
  const errors = optionalText(fields, 'errors');
  const dlqClass = fields.dlqClass === undefined ? null : oneOf<ErrorClass>(fields, 'dlqClass', ERROR_CLASS_SET);
  const record: TaskRecord = {
    id: text(fields, 'id'),
    tenant: text(fields, 'tenant'),
    type: oneOf<TaskType>(fields, 'type', TYPES),
    state: oneOf<TaskState>(fields, 'state', STATES),
    version: coerced(fields, 'version', true),
    result: optionalText(fields, 'result') ?? null,
    progress: coerced(fields, 'progress', false),
    retryCount: coerced(fields, 'retryCount', true),
    maxRetries: coerced(fields, 'maxRetries', true),
    attempt: coerced(fields, 'attempt', true),
    reopens: fields.reopens === undefined ? 0 : coerced(fields, 'reopens', true),
    // '[]' is every task's until its first failure: no parse for it.
    errors: errors === undefined ? [] : errors === '[]' ? [] : taskErrorsSchema.parse(JSON.parse(errors)),
    usage: usageOf(optionalText(fields, 'usage')),
    workerId: optionalText(fields, 'workerId') ?? null,
    leaseExpiresAt: optionalNumeral(fields, 'leaseExpiresAt'),
    nextAttemptAt: optionalNumeral(fields, 'nextAttemptAt'),
    createdAt: coerced(fields, 'createdAt', false),
    updatedAt: coerced(fields, 'updatedAt', false),
    startedAt: optionalNumeral(fields, 'startedAt'),
    completedAt: optionalNumeral(fields, 'completedAt'),
    idempotencyKey: optionalText(fields, 'idempotencyKey') ?? null,
    trace: optionalText(fields, 'trace') ?? null,
    dlqClass,
    apiKeyId: optionalText(fields, 'apiKeyId') ?? null,
    usageCalls: optionalNumeral(fields, 'usageCalls'),
    usagePromptTokens: optionalNumeral(fields, 'usagePromptTokens'),
    usageCompletionTokens: optionalNumeral(fields, 'usageCompletionTokens'),
    usageCachedTokens: optionalNumeral(fields, 'usageCachedTokens'),
    usageReasoningTokens: optionalNumeral(fields, 'usageReasoningTokens'),
    usageCostNano: optionalNumeral(fields, 'usageCostNano'),
    usageModel: optionalText(fields, 'usageModel') ?? null,
    usageEstimated: fields.usageEstimated === undefined ? false : text(fields, 'usageEstimated') === '1',
    priority: oneOfOr<TaskPriority, TaskPriority>(fields, 'priority', PRIORITY_SET, TaskPriority.NORMAL),
    cost: optionalNumeral(fields, 'cost'),
    queued: oneOfOr<DispatchLane, null>(fields, 'queued', LANE_SET, null),
    waitReason: oneOfOr<WaitReason, null>(fields, 'waitReason', WAIT_REASON_SET, null),
    chain: optionalText(fields, 'chain') ?? null,
    usageLog: optionalText(fields, 'usageLog') ?? null,
  };
  if (fields.content !== undefined) record.content = text(fields, 'content');
  return record;
}

/** One entry of a task's event stream: the transition and the record as it was after it. */
export const EventKind = { TRANSITION: 'transition', PROGRESS: 'progress' } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export interface TaskEvent {
  kind: EventKind;
  version: number;
  state: TaskState;
  at: number;
  workerId: string | null;
  reason: string | null;
  task: TaskRecord;
}

/**
 * Parses a stream entry written by the task scripts (field/value pairs, flat array).
 * The entry's `task` field holds the same JSON that is published on the task channel.
 */
export function parseTaskEvent(flatFields: string[]): TaskEvent {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flatFields.length; i += 2) fields[flatFields[i]!] = flatFields[i + 1]!;
  const task = parseTaskHash(JSON.parse(fields.task ?? '{}'));
  return {
    kind: fields.kind === EventKind.PROGRESS ? EventKind.PROGRESS : EventKind.TRANSITION,
    version: Number(fields.version),
    state: taskStateSchema.parse(fields.state),
    at: Number(fields.at),
    workerId: fields.workerId || null,
    reason: fields.reason || null,
    task,
  };
}

/** Payload of a queue job: the task id only; the record in Redis is the source of truth. */
export interface TaskJobData {
  taskId: string;
  /** The task's tenant, so the claim names its tenant slices at once (absent in older jobs). */
  tenant?: string;
  /** True for a submit's job: its task joined its line in the same step (docs/dispatch.md). */
  queued?: boolean;
}
