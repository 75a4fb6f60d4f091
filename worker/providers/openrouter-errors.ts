/**
 * How OpenRouter failures map to error classes (the table in docs/operations.md): by HTTP status, by
 * what the provider says in an error body (in a non-2xx answer, inside a 200 answer, or inside
 * the stream), and the Retry-After a 429 or 503 may carry.
 */
import type { ScheduledErrorClass } from '../../schema/src/errors.ts';
import { ErrorClass } from '../../schema/src/task.ts';

const WARMUP = /warm(ing)?[ -]?up|model is (currently )?loading|cold start|is loading/i;
const MODERATION = /moderat|flagged|content (policy|filter)|safety/i;

/**
 * What OpenRouter says about a 402 in its error metadata (`error.metadata`): `reason`
 * `in_flight_budget_exhausted` (or `limit_source` `openrouter_in_flight_budget`) is a transient
 * hold that comes with a Retry-After; `weight_exceeds_budget` is one request costing more than
 * the whole in-flight budget, which no retry fixes. Older bodies carry the reason in the message.
 */
export function paymentKind(metadata: unknown, message: string): 'in_flight' | 'over_budget' | 'credits' {
  const fields = metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {};
  const said = `${String(fields.reason ?? '')} ${String(fields.code ?? '')} ${String(fields.limit_source ?? '')} ${message}`;
  if (/weight_exceeds_budget/.test(said)) return 'over_budget';
  if (/in_flight_budget/.test(said)) return 'in_flight';
  return 'credits';
}

/** Maps an HTTP status (and the provider's message and error metadata) to an error class. */
export function classifyHttpStatus(status: number, message: string, metadata?: unknown): ScheduledErrorClass {
  if (status === 402) return paymentKind(metadata, message) === 'over_budget' ? ErrorClass.REQUEST_OVER_BUDGET : ErrorClass.INSUFFICIENT_CREDITS;
  if (status === 429) return ErrorClass.RATE_LIMIT;
  if (status === 503) return WARMUP.test(message) ? ErrorClass.MODEL_WARMUP : ErrorClass.SERVICE_UNAVAILABLE;
  if (status === 408 || status === 500 || status === 502 || status === 504) return ErrorClass.NETWORK_TIMEOUT;
  if (status === 403 && MODERATION.test(message)) return ErrorClass.CONTENT_FILTER;
  if (status >= 400 && status < 500) return ErrorClass.PERMANENT;
  return ErrorClass.NETWORK_TIMEOUT;
}

/**
 * An error the provider reported with a 200 status (in the body or mid-stream): the upstream
 * model failed. Its code, when it has one, is an HTTP-like status that says more.
 */
export function classifyUpstreamError(message: string, code?: number | string): ScheduledErrorClass {
  if (WARMUP.test(message)) return ErrorClass.MODEL_WARMUP;
  if (MODERATION.test(message)) return ErrorClass.CONTENT_FILTER;
  const status = typeof code === 'number' ? code : Number(code);
  if (status === 402 || status === 429) return classifyHttpStatus(status, message);
  return ErrorClass.PROVIDER_ERROR;
}

/** Retry-After in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
