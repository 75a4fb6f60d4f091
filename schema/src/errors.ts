/**
 * The one error type the service throws on purpose. A stable `code` crosses process and
 * API boundaries; `retryable` tells the caller whether trying again can help.
 */
import { ErrorClass } from './task.ts';

/**
 * Every `extensions.code` an answer can carry, over HTTP and WebSocket alike, and nothing else:
 * ours, and the GraphQL layer's (Apollo Server's names, which graphql-ws answers reuse). The
 * table in docs/api.md ("Error codes") documents each one; test/error-codes.test.ts keeps the
 * two the same.
 */
export const ErrorCode = {
  /** An argument or variable the service refuses (`details.reason` says which rule, where there are several). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** No API key, or one the server does not know (unknown and revoked look the same). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The key is valid but lacks the scope the operation needs. */
  FORBIDDEN: 'FORBIDDEN',
  /** Too many submissions for this key; `details.retryAfterSeconds` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_FOUND: 'NOT_FOUND',
  /** The task is not in a state the operation applies to, or an idempotency key names other content. */
  CONFLICT: 'CONFLICT',
  /** The tenant's spend reached one of its budgets (`details.period`, `details.resetsAt`); nothing was stored. */
  BUDGET_EXCEEDED: 'BUDGET_EXCEEDED',
  /** Redis cannot be reached; nothing was changed. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The HTTP body is over MAX_BODY_BYTES. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A provider failure inside the worker (see ProviderError); it becomes a task's error record, never an answer. */
  PROVIDER: 'PROVIDER',
  /** Anything unexpected; its message is masked outside development. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A request the GraphQL endpoint cannot take: not JSON, no query, blocked as CSRF, a mutation by GET, a query over WebSocket. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** Not GraphQL syntax, or more than GRAPHQL_MAX_TOKENS tokens (HTTP). */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** Not valid against the schema, or over a GraphQL limit; nothing ran. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** `operationName` names no operation of the document, or it has several and none was named. */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** An automatic persisted query whose hash this server has not seen: send the query text with it. */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const APP_ERROR_BRAND = Symbol.for('asynctaskflow.AppError');

export interface AppErrorOptions {
  retryable?: boolean;
  /** Safe to show to the caller: no hostnames, stack traces or secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly [APP_ERROR_BRAND] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** True for any AppError, even one from another copy of this module. */
export function isAppError(error: unknown): error is AppError {
  return typeof error === 'object' && error !== null && APP_ERROR_BRAND in error;
}

/**
 * The classes a failed attempt can have: every class but STALLED, which only the claim script
 * records (a task whose worker vanished is taken over at once, with no delay, and the stall
 * counts against the task's own MAX_RETRIES).
 */
export type ScheduledErrorClass = Exclude<ErrorClass, typeof ErrorClass.STALLED>;

/**
 * A provider failure, classified into exactly one error class. The class (not the
 * message) decides whether the task is retried or goes to the dead letter queue.
 */
export class ProviderError extends AppError {
  readonly errorClass: ScheduledErrorClass;
  readonly httpStatus: number | null;
  /** How long the provider asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | null;
  /**
   * The provider asked every caller to hold for `retryAfterMs` (OpenRouter's 402
   * in_flight_budget_exhausted): not a failure of this task, which waits without a retry counted.
   */
  readonly providerHold: boolean;

  constructor(
    errorClass: ScheduledErrorClass,
    message: string,
    options: AppErrorOptions & { httpStatus?: number | null; retryAfterMs?: number | null; providerHold?: boolean } = {},
  ) {
    super(ErrorCode.PROVIDER, message, { ...options, retryable: isRetryableClass(errorClass) });
    this.name = 'ProviderError';
    this.errorClass = errorClass;
    this.httpStatus = options.httpStatus ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.providerHold = options.providerHold ?? false;
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return isAppError(error) && error.code === ErrorCode.PROVIDER && 'errorClass' in error;
}

const NEVER_RETRIED: ReadonlySet<ErrorClass> = new Set([
  ErrorClass.CONTENT_FILTER,
  ErrorClass.PERMANENT,
  ErrorClass.REQUEST_OVER_BUDGET,
]);

/** Whether another attempt can help for this class of failure. */
export function isRetryableClass(errorClass: ErrorClass): boolean {
  return !NEVER_RETRIED.has(errorClass);
}
