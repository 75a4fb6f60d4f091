/**
 * The tracing part of each process's configuration: the standard OpenTelemetry variables
 * (OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER[_ARG],
 * OTEL_BSP_SCHEDULE_DELAY) and ours (docs/observability.md). Tracing is off, and no SDK is
 * loaded, unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
 *
 * Parsed here rather than by the SDK so that `loadConfig(env)` stays the only reader of the
 * environment, and every problem is reported with the others at start. The OTLP exporter still
 * reads the variables this file does not take over (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
 * _COMPRESSION, their _TRACES_ forms, and the certificate ones).
 */
import { z } from 'zod';
import { envBool, envInt, envNumber, type CrossCheck } from './env.ts';

export const OtlpProtocol = { PROTOBUF: 'http/protobuf', JSON: 'http/json' } as const;
export type OtlpProtocol = (typeof OtlpProtocol)[keyof typeof OtlpProtocol];

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** How an attempt's span joins its submit's trace: a new root linked to it (default), or its child. */
export const TaskParenting = { LINK: 'link', CHILD: 'child' } as const;
export type TaskParenting = (typeof TaskParenting)[keyof typeof TaskParenting];

const url = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional();
const protocol = () => z.enum([OtlpProtocol.PROTOBUF, OtlpProtocol.JSON], { error: 'must be http/protobuf or http/json (gRPC is not supported)' }).optional();

/** What both processes read. */
export const tracingEnvShape = {
  OTEL_EXPORTER_OTLP_ENDPOINT: url(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol(),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: envNumber(1, { max: 1 }),
  // The batch span processor's delay between exports (the SDK's default).
  OTEL_BSP_SCHEDULE_DELAY: envInt(5000, { min: 1 }),
};

/** What only the worker reads: how attempts join the trace and what their model calls record. */
export const workerTracingEnvShape = {
  OTEL_TASK_PARENTING: z.enum([TaskParenting.LINK, TaskParenting.CHILD]).default(TaskParenting.LINK),
  OTEL_GENAI_CAPTURE_CONTENT: envBool(false),
  OTEL_SEMCONV_STABILITY_OPT_IN: z.string().default(''),
};

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, values percent-encoded. */
export function parseResourceAttributes(value: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    if (!key) continue;
    try {
      attributes[key] = decodeURIComponent(raw);
    } catch {
      attributes[key] = raw;
    }
  }
  return attributes;
}

/** A malformed OTEL_RESOURCE_ATTRIBUTES entry is an error at start, not a silently dropped attribute. */
export const resourceAttributesCheck: CrossCheck = (env) => {
  const value = env.OTEL_RESOURCE_ATTRIBUTES;
  if (!value) return [];
  const bad = value.split(',').filter((pair) => pair.trim() !== '' && !/^\s*[^=\s][^=]*=/.test(pair));
  return bad.length > 0 ? [`OTEL_RESOURCE_ATTRIBUTES: entries must be key=value, not ${bad.map((pair) => JSON.stringify(pair.trim())).join(', ')}`] : [];
};

export interface TracingConfig {
  /** True when an OTLP endpoint is set; nothing below is used otherwise. */
  enabled: boolean;
  /** The full URL spans are POSTed to. */
  tracesUrl: string | null;
  protocol: OtlpProtocol;
  /** OTEL_SERVICE_NAME, or null for the process's own default (`atf-server`, `atf-worker`). */
  serviceName: string | null;
  resourceAttributes: Record<string, string>;
  sampler: TraceSampler;
  samplerRatio: number;
  exportDelayMs: number;
  parenting: TaskParenting;
  /** Prompt and answer text on the model call's span (OTEL_GENAI_CAPTURE_CONTENT). */
  captureContent: boolean;
  /** Emit the GenAI conventions of the GenAI repository's latest, not v1.41 (OTEL_SEMCONV_STABILITY_OPT_IN). */
  genAiLatest: boolean;
}

type TracingEnv = z.infer<z.ZodObject<typeof tracingEnvShape>> & Partial<z.infer<z.ZodObject<typeof workerTracingEnvShape>>>;

/** The traces URL per the OTLP exporter spec: the signal's own endpoint as given, else the base endpoint plus `/v1/traces`. */
export function tracesUrlOf(raw: Pick<TracingEnv, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string | null {
  if (raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!raw.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return `${raw.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

export function tracingConfigFrom(raw: TracingEnv): TracingConfig {
  const tracesUrl = tracesUrlOf(raw);
  return {
    enabled: tracesUrl !== null,
    tracesUrl,
    protocol: raw.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? raw.OTEL_EXPORTER_OTLP_PROTOCOL ?? OtlpProtocol.PROTOBUF,
    serviceName: raw.OTEL_SERVICE_NAME ?? null,
    resourceAttributes: parseResourceAttributes(raw.OTEL_RESOURCE_ATTRIBUTES),
    sampler: raw.OTEL_TRACES_SAMPLER,
    samplerRatio: raw.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: raw.OTEL_BSP_SCHEDULE_DELAY,
    parenting: raw.OTEL_TASK_PARENTING ?? TaskParenting.LINK,
    captureContent: raw.OTEL_GENAI_CAPTURE_CONTENT ?? false,
    genAiLatest: (raw.OTEL_SEMCONV_STABILITY_OPT_IN ?? '')
      .split(',')
      .map((value) => value.trim())
      .includes('gen_ai_latest_experimental'),
  };
}
