/**
 * The ids of an attempt's span, derived from the task instead of drawn at random: attempt n+1
 * links to attempt n (docs/observability.md) without its span context being stored anywhere.
 * Every claim counts a new attempt number (lifecycle.ts `claim_task`, reopens included), so
 * (task, trace context, attempt) names one attempt. No I/O.
 */
import { hash } from 'node:crypto';
import type { TraceParent } from '../../schema/src/trace-context.ts';

export interface AttemptSpanIds {
  /** The attempt's trace when it is a new root (the default); a child keeps its submit's. */
  traceId: string;
  spanId: string;
}

/** The ids attempt `attempt` of `taskId` gets, given its submit's trace context. */
export function attemptSpanIds(taskId: string, producer: TraceParent | null, attempt: number): AttemptSpanIds {
  const seed = `atf-attempt\n${taskId}\n${producer ? `${producer.traceId}-${producer.spanId}` : ''}\n${attempt}`;
  const digest = hash('sha256', seed, 'hex');
  // An all-zero id is invalid; a hash that is one is 2^-64 away, but the fix costs nothing.
  const nonZero = (hex: string) => (/^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex);
  return { traceId: nonZero(digest.slice(0, 32)), spanId: nonZero(digest.slice(32, 48)) };
}

/** The span context attempt `attempt` has, as the next attempt links to it. */
export function attemptSpanContext(taskId: string, producer: TraceParent | null, attempt: number, childOfProducer: boolean): { traceId: string; spanId: string } {
  const ids = attemptSpanIds(taskId, producer, attempt);
  return { traceId: childOfProducer && producer ? producer.traceId : ids.traceId, spanId: ids.spanId };
}
