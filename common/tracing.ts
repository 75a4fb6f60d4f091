/**
 * Tracing for a process: `startTracing(config)` returns null when no OTLP endpoint is set (then
 * no OpenTelemetry module is loaded at all: this file imports types only), else a `Tracing`
 * backed by the SDK (tracing-sdk.ts, loaded on demand). Processes hand it to the server's and
 * the worker's span helpers (server/tracing, worker/tracing); main.ts shuts it down last.
 */
import type { Context, Span, SpanOptions, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from './tracing-config.ts';

/** A span's ids, fixed in advance (see `Tracing.startSpanWithIds`). */
export interface PresetIds {
  /** Used when the span is a new root; a child keeps its parent's. */
  traceId: string;
  spanId: string;
}

/** The fields a span's log lines carry (a child logger's bindings). */
export type TraceLogFields = Record<'trace_id' | 'span_id', string>;

/** `span`'s ids as log fields, or none for a span that records nothing. */
export function traceLogFields(span: Pick<Span, 'spanContext' | 'isRecording'>): TraceLogFields | Record<string, never> {
  if (!span.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export interface Tracing {
  readonly config: TracingConfig;
  /** The tracer of one component (its instrumentation scope): `atf-server`, `atf-worker`. */
  tracer(name: string): Tracer;
  /**
   * Starts a span whose ids are `ids` instead of random ones: an attempt's span is found by the
   * next attempt without anything stored (worker/tracing/attempt-ids.ts).
   */
  startSpanWithIds(tracer: Tracer, name: string, options: SpanOptions, parent: Context, ids: PresetIds): Span;
  /** Exports what is buffered (tests, shutdown). */
  forceFlush(): Promise<void>;
  /** Exports what is buffered and stops; spans ended after are dropped. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** `service.name` when OTEL_SERVICE_NAME is not set. */
  defaultServiceName: string;
  /** Instead of the OTLP exporter (tests: the SDK's InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests that read an in-memory exporter). */
  exportEachSpan?: boolean;
  /** Told when an export fails (the SDK's own diagnostics are off). */
  onExportError?: (error: Error) => void;
}

/** The SDK for `config`, or null when tracing is off (no OpenTelemetry module is loaded then). */
export async function startTracing(config: TracingConfig, options: StartTracingOptions): Promise<Tracing | null> {
  if (!config.enabled && !options.exporter) return null;
  const { createSdkTracing } = await import('./tracing-sdk.ts');
  return createSdkTracing(config, options);
}
