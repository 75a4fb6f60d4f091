/**
 * `trace_id` and `span_id` on every log line written inside a span: a pino mixin that asks the
 * tracing SDK, when one runs, which span is active. Installed by runProcess only when tracing is
 * on (no cost per line otherwise); the SDK side (tracing-sdk.ts) provides the lookup.
 */
export interface TraceLogFields {
  trace_id: string;
  span_id: string;
}

let lookup: (() => TraceLogFields | null) | null = null;

/** Set by the tracing SDK when it starts. */
export function setTraceLogLookup(find: (() => TraceLogFields | null) | null): void {
  lookup = find;
}

/** The pino mixin: the active span's ids, or nothing. */
export function traceLogMixin(): Partial<TraceLogFields> {
  return lookup?.() ?? {};
}
