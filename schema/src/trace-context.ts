/**
 * A task's trace context as the create script stores it (`trace` in the task hash): the W3C
 * `traceparent` of the submit's PRODUCER span (docs/observability.md). Server and worker read it
 * here, the server for `Task.traceId`, the worker to link or parent each attempt. No I/O.
 */

/** The parts of a W3C traceparent (version 00). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The sampled flag. */
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a version-00 traceparent; null for anything else (absent, malformed, all-zero ids). */
export function parseTraceParent(value: string | null | undefined): TraceParent | null {
  const match = value ? TRACEPARENT.exec(value.trim()) : null;
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return null;
  return { traceId: match[1]!, spanId: match[2]!, sampled: (parseInt(match[3]!, 16) & 1) === 1 };
}

/** Formats a traceparent (version 00). */
export function formatTraceParent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? '01' : '00'}`;
}

/** The trace id of a stored trace context, or null when the task has none. */
export function traceIdOf(trace: string | null | undefined): string | null {
  return parseTraceParent(trace)?.traceId ?? null;
}
