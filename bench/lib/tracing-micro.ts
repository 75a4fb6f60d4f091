/**
 * What the spans of one task cost in-process, measured alone: the worker's attempt (its span,
 * the dispatch wait, the model call through the wrappers, the completion) and the API's submit
 * (SERVER and PRODUCER spans), each through the real SDK and batch processor, exported by an
 * exporter that serializes to OTLP protobuf as the real one does but sends nothing. Against the
 * same calls with tracing off. µs per task, hot (a loaded process pays more: caches, GC).
 *
 *   node --import tsx bench/lib/tracing-micro.ts   (the bench's tracing scenario runs it too)
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startTracing, type Tracing } from '../../common/tracing.ts';
import { tracingConfigFrom } from '../../common/tracing-config.ts';
import { createServerTracing } from '../../server/tracing/server-tracing.ts';
import { createNoopProvider } from '../../worker/providers/noop.ts';
import type { TaskStore } from '../../worker/task-store.ts';
import { AttemptRegistry, createAttemptTracer } from '../../worker/tracing/attempt-trace.ts';
import { traceProvider } from '../../worker/tracing/chat-trace.ts';
import { traceTaskStore } from '../../worker/tracing/store-trace.ts';

/** Serializes as the OTLP/HTTP protobuf exporter does, and drops the bytes. */
class SerializingExporter implements SpanExporter {
  bytes = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.bytes += ProtobufTraceSerializer.serializeRequest(spans)!.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

const config = tracingConfigFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/', OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 1, OTEL_BSP_SCHEDULE_DELAY: 5000 });

function workerTask(tracing: Tracing | null) {
  const registry = new AttemptRegistry();
  const ok = { status: 'ok', version: 3, nextAttemptAt: null } as const;
  const plainStore = { complete: async () => ok } as unknown as TaskStore;
  const store = tracing ? traceTaskStore(plainStore, registry) : plainStore;
  const plainProvider = createNoopProvider();
  const provider = tracing ? traceProvider(plainProvider, { config: tracing.config, model: 'noop', providerName: 'noop', baseUrl: null, attempts: registry }) : plainProvider;
  const tracer = tracing ? createAttemptTracer({ tracing, registry, readClaimReason: async () => null }) : null;
  let n = 0;
  return async () => {
    n += 1;
    const taskId = `0e6f3b9c-1d2a-4c5b-9e8f-${String(n).padStart(12, '0')}`;
    const token = `token-${n}`;
    const now = Date.now();
    const task = {
      taskId, version: 2, attempt: 1, content: 'x', type: 'SUMMARIZE' as const, tenant: 'default', retryCount: 0, maxRetries: 3,
      traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      waited: { queuedAt: now - 3, reason: null, since: now - 4, fromState: 'PENDING' },
    };
    const attempt = tracer ? await tracer.start(task, 'primary', token) : null;
    const controller = new AbortController();
    attempt?.watch(controller.signal);
    await provider.complete({ messages: [{ role: 'user', content: 'x' }], signal: controller.signal, onProgress() {}, onText() {}, onUsage() {} });
    await store.complete({ taskId, token, attempt: 1 } as never, 'noop', null, {} as never, null as never);
    attempt?.end(controller.signal.aborted ? controller.signal.reason : null);
  };
}

function apiTask(tracing: Tracing | null) {
  const server = tracing ? createServerTracing(tracing) : null;
  const req = { method: 'POST', url: '/graphql', headers: { 'user-agent': 'bench', 'content-type': 'application/json' } } as unknown as IncomingMessage;
  const res = { statusCode: 200 } as ServerResponse;
  let n = 0;
  return async () => {
    n += 1;
    const request = server?.startRequest(req) ?? null;
    const span = server?.startSubmit({ id: `task-${n}`, tenant: 'default', type: 'SUMMARIZE' }, request);
    span?.end({ status: 'created' });
    if (request) server!.endRequest(request, res);
  };
}

async function perTask(run: () => Promise<void>, count: number): Promise<number> {
  for (let i = 0; i < 2000; i += 1) await run();
  const started = process.cpuUsage();
  for (let i = 0; i < count; i += 1) await run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

export interface SpansAlone {
  /** µs a task the worker's and the API server's spans cost, one figure per round (traced minus off). */
  worker: number[];
  api: number[];
}

/** Rounds of `count` tasks each, traced and off, alternating; the difference per round. */
export async function measureSpansAlone(rounds = 5, count = 20_000): Promise<SpansAlone> {
  const exporter = new SerializingExporter();
  const tracing = (await startTracing(config, { defaultServiceName: 'atf-bench', exporter }))!;
  const result: SpansAlone = { worker: [], api: [] };
  try {
    for (const [name, make] of [['worker', workerTask], ['api', apiTask]] as const) {
      for (let round = 0; round < rounds; round += 1) {
        const off = await perTask(make(null), count);
        const on = await perTask(make(tracing), count);
        await tracing.forceFlush();
        result[name].push(on - off);
      }
    }
  } finally {
    await tracing.shutdown();
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureSpansAlone();
  for (const [name, rounds] of Object.entries(result) as [string, number[]][]) console.log(`${name}: tracing ${rounds.map((v) => v.toFixed(1)).join(', ')} µs a task`);
}
