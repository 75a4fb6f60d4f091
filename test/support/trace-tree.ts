/**
 * Spans as the tracing tests read them, whether they came from the SDK's in-memory exporter
 * (`fromReadable`) or over OTLP to the loopback receiver (otlp-receiver.ts), and the questions
 * the tests ask of them: a task's spans, a span's children, the spans of a trace.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

type Value = string | number | boolean | Value[] | null;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** The API's SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, Value>;
  events: { name: string; timeMs: number; attributes: Record<string, Value> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, Value> }[];
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  /** The resource's service.name. */
  service: string;
  /** The tracer's name (instrumentation scope). */
  scope: string;
}

export const SpanKindOf = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

const hrMs = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;

export function fromReadable(span: ReadableSpan): SpanRecord {
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: span.kind,
    startMs: hrMs(span.startTime),
    endMs: hrMs(span.endTime),
    attributes: span.attributes as Record<string, Value>,
    events: span.events.map((event) => ({ name: event.name, timeMs: hrMs(event.time), attributes: (event.attributes ?? {}) as Record<string, Value> })),
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId, attributes: (link.attributes ?? {}) as Record<string, Value> })),
    status: span.status.code,
    service: String(span.resource.attributes['service.name'] ?? ''),
    scope: span.instrumentationScope.name,
  };
}

/** Every span that names task `taskId`, and every span under those (the model call, the wait). */
export function spansOfTask(all: readonly SpanRecord[], taskId: string): SpanRecord[] {
  const roots = all.filter((span) => span.attributes['atf.task.id'] === taskId);
  const ids = new Set(roots.map((span) => span.spanId));
  // Children, and theirs: a few passes cover the depth our spans have.
  for (let depth = 0; depth < 4; depth += 1) {
    for (const span of all) if (span.parentSpanId && ids.has(span.parentSpanId)) ids.add(span.spanId);
  }
  // The SERVER span of the request that submitted it.
  const producers = roots.filter((span) => span.kind === SpanKindOf.PRODUCER);
  for (const producer of producers) if (producer.parentSpanId) ids.add(producer.parentSpanId);
  return all.filter((span) => ids.has(span.spanId));
}

export const childrenOf = (all: readonly SpanRecord[], parent: SpanRecord) => all.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);

export const attemptsOf = (spans: readonly SpanRecord[]) =>
  spans.filter((span) => span.kind === SpanKindOf.CONSUMER).sort((a, b) => Number(a.attributes['atf.task.attempt']) - Number(b.attributes['atf.task.attempt']));

/** Spans grouped by trace id. */
export function byTrace(spans: readonly SpanRecord[]): Map<string, SpanRecord[]> {
  const traces = new Map<string, SpanRecord[]>();
  for (const span of spans) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
  return traces;
}

/** The link of `kind` (`producer`, `previous_attempt`) on `span`. */
export const linkOf = (span: SpanRecord, kind: string) => span.links.find((link) => link.attributes['atf.link.kind'] === kind);
