import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../server/config.ts';
import { loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { parseResourceAttributes, tracesUrlOf } from './tracing-config.ts';
import { samplerOf } from './tracing-sdk.ts';

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set', () => {
    expect(loadWorkerConfig({}).tracing.enabled).toBe(false);
    expect(loadServerConfig({}).tracing.enabled).toBe(false);
    expect(loadServerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toMatchObject({
      enabled: true,
      tracesUrl: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
    });
  });

  it('takes the traces endpoint as given, and http/json when asked', () => {
    expect(tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318/', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/traces' })).toBe('http://b:9/traces');
    expect(loadWorkerConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing.protocol).toBe('http/json');
  });

  it('reads the worker-only settings', () => {
    const { tracing } = loadWorkerConfig({ OTEL_TASK_PARENTING: 'child', OTEL_GENAI_CAPTURE_CONTENT: 'true', OTEL_SEMCONV_STABILITY_OPT_IN: 'http, gen_ai_latest_experimental' });
    expect(tracing).toMatchObject({ parenting: 'child', captureContent: true, genAiLatest: true });
  });

  it('refuses gRPC, a bad sampler and malformed resource attributes, all in one message', () => {
    expect(() =>
      loadServerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_RESOURCE_ATTRIBUTES: 'a=1,oops' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT[\s\S]*OTEL_EXPORTER_OTLP_PROTOCOL[\s\S]*OTEL_TRACES_SAMPLER[\s\S]*OTEL_RESOURCE_ATTRIBUTES/);
    expect(() => loadServerConfig({ TRACE_URL_TEMPLATE: 'http://jaeger/trace/' })).toThrow(/TRACE_URL_TEMPLATE/);
  });

  it('parses OTEL_RESOURCE_ATTRIBUTES with percent-encoded values', () => {
    expect(parseResourceAttributes('deployment.environment=prod,team=a%20b')).toEqual({ 'deployment.environment': 'prod', team: 'a b' });
  });

  it('builds the samplers the SDK spec names', () => {
    expect(samplerOf({ sampler: 'parentbased_traceidratio', samplerRatio: 0.25 }).toString()).toMatch(/ParentBased.*0\.25/);
    expect(samplerOf({ sampler: 'always_off', samplerRatio: 1 }).toString()).toMatch(/AlwaysOff/);
  });
});

describe('with tracing off', () => {
  // Nothing of OpenTelemetry may load: the only value imports of it are in the modules main.ts
  // loads when tracing is on (common/tracing-sdk.ts, server/tracing, worker/tracing).
  const ROOT = join(import.meta.dirname, '..');
  const onDemand = /^(common\/tracing-sdk\.ts|server\/tracing\/|worker\/tracing\/)/;
  const files = ['common/tracing.ts', 'common/process.ts', 'common/logger.ts', 'server/app.ts', 'server/wiring.ts', 'server/http/graphql-http.ts', 'server/services/task-commands.ts', 'server/services/task-service.ts', 'worker/worker.ts', 'worker/runner.ts', 'worker/attempt-settlement.ts', 'worker/guarded-call.ts', 'worker/model-routing.ts', 'worker/failure.ts', 'worker/runner-options.ts', 'server/main.ts', 'worker/main.ts'];

  it('the modules every process loads import OpenTelemetry and the tracing modules for types only', () => {
    for (const file of files) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const valueImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((match) => match[1]!);
      expect(valueImports.filter((path) => path.startsWith('@opentelemetry/')), file).toEqual([]);
      const local = valueImports.map((path) => join(file, '..', path).replace(/\\/g, '/'));
      expect(local.filter((path) => onDemand.test(path)), file).toEqual([]);
    }
  });
});
