/**
 * The OpenTelemetry SDK behind `Tracing` (tracing.ts), loaded only when tracing is on: a tracer
 * provider with the configured sampler and resource, the OTLP HTTP exporter (protobuf, or JSON
 * with OTEL_EXPORTER_OTLP_PROTOCOL=http/json) behind a batch processor.
 *
 * No context manager is installed: on Node 20 an AsyncLocalStorage makes every promise in the
 * process pay for its hooks (the bench measured traced tasks/s at about half), so spans are
 * parented explicitly (the request's scope, the attempt found by its lease and signal) and log
 * lines get their span's ids from child loggers.
 */
import type { Context, Span, SpanOptions, Tracer } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type IdGenerator,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { PresetIds, StartTracingOptions, Tracing } from './tracing.ts';
import { OtlpProtocol, type TracingConfig } from './tracing-config.ts';

/** OTEL_TRACES_SAMPLER and its argument, as the SDK spec defines them. */
export function samplerOf(config: Pick<TracingConfig, 'sampler' | 'samplerRatio'>): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Random ids, except for the one span `withIds` names. The tracer asks for a span's ids
 * synchronously inside `startSpan` (span id, then a trace id for a root), so a preset taken
 * around that call can go to no other span.
 */
class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private preset: { traceId: string | null; spanId: string | null } | null = null;

  withIds<T>(ids: PresetIds, start: () => T): T {
    this.preset = { traceId: ids.traceId, spanId: ids.spanId };
    try {
      return start();
    } finally {
      this.preset = null;
    }
  }

  generateTraceId(): string {
    const id = this.preset?.traceId;
    if (!id) return this.random.generateTraceId();
    this.preset!.traceId = null;
    return id;
  }

  generateSpanId(): string {
    const id = this.preset?.spanId;
    if (!id) return this.random.generateSpanId();
    this.preset!.spanId = null;
    return id;
  }
}

function exporterOf(config: TracingConfig): SpanExporter {
  const options = { url: config.tracesUrl ?? undefined };
  return config.protocol === OtlpProtocol.JSON ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
}

/** Builds the SDK for `config` (see tracing.ts `startTracing`). */
export function createSdkTracing(config: TracingConfig, options: StartTracingOptions): Tracing {
  // A collector that is down fails every batch: say so at most once a minute.
  let reportedAt = -Infinity;
  setGlobalErrorHandler((error) => {
    if (Date.now() - reportedAt < 60_000) return;
    reportedAt = Date.now();
    options.onExportError?.(error instanceof Error ? error : new Error(String(error)));
  });
  const exporter = options.exporter ?? exporterOf(config);
  const processor = options.exportEachSpan
    ? new SimpleSpanProcessor({ exporter })
    : new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.exportDelayMs });
  const idGenerator = new PresetIdGenerator();
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (SDK environment spec).
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'] ?? options.defaultServiceName;
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, 'service.name': serviceName })),
    sampler: samplerOf(config),
    idGenerator,
    spanProcessors: [processor],
  });
  return {
    config,
    tracer: (name) => provider.getTracer(name),
    startSpanWithIds: (tracer: Tracer, name: string, spanOptions: SpanOptions, parent: Context, ids: PresetIds): Span =>
      idGenerator.withIds(ids, () => tracer.startSpan(name, spanOptions, parent)),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
