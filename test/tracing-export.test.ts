/**
 * Issue 23, for real: the API server and a worker run as their own processes with the real OTLP
 * HTTP exporters (protobuf by default, JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json) sending
 * to a loopback receiver (support/otlp-receiver.ts decodes both). One task's spans arrive from
 * both processes under the caller's trace id (OTEL_TASK_PARENTING=child), or linked to it (the
 * default). The child-parented trace of a task that retried once is drawn as a waterfall and
 * captured in Chromium: the screenshot of docs/observability.md.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { defaultAnswer, errorAnswer, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.ts';
import type { ServerProcess } from './support/server-process.ts';
import { attemptsOf, linkOf, SpanKindOf, spansOfTask, type SpanRecord } from './support/trace-tree.ts';
import { renderWaterfall } from './support/trace-waterfall.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ fake: true, server: false });
let receiver: OtlpReceiver;
let server: ServerProcess;

const tracingEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
const unique = () => Math.random().toString(36).slice(2, 10);
const seen = new Set<string>();

/** Content marked ONCE- fails its first call (a retry); everything else answers. */
function script(request: RecordedRequest) {
  const text = JSON.stringify(request.body);
  const marker = /ONCE-[a-z0-9]+/.exec(text)?.[0];
  if (marker && !seen.has(marker)) {
    seen.add(marker);
    return errorAnswer(503, 'model overloaded');
  }
  return defaultAnswer(request);
}

async function submit(content: string, traceparent: string): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent },
    body: JSON.stringify({ query: 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }', variables: { input: { content } } }),
  });
  return ((await response.json()) as { data: { submitTask: { id: string } } }).data.submitTask.id;
}

/** Waits until the receiver holds `attempts` finished attempt spans and the model calls of the task. */
const spansOf = (id: string, attempts: number) =>
  waitFor(
    () => {
      const spans = spansOfTask(receiver.spans, id);
      return attemptsOf(spans).length >= attempts && spans.filter((span) => span.name.startsWith('chat ')).length >= attempts ? spans : null;
    },
    { timeoutMs: 20_000, message: `the spans of ${attempts} attempts of ${id}` },
  );

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  system.fake.script(script);
  server = await system.spawnServer({
    REDIS_KEY_PREFIX: system.prefix,
    ...tracingEnv(),
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,service.namespace=atf',
  });
});

afterAll(async () => {
  server?.signal('SIGTERM');
  await server?.exited;
  await receiver?.close();
});

describe('OTLP export from the real processes', () => {
  it('protobuf, OTEL_TASK_PARENTING=child: server and worker spans arrive under the incoming trace id', async () => {
    const worker = await system.spawnWorker({ ...tracingEnv(), OTEL_TASK_PARENTING: 'child', RETRY_DELAY_SCALE: '0.01' });
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const id = await submit(`ONCE-${unique()} Observability is knowing where the time went.`, `00-${traceId}-1111111111111111-01`);
    const spans = await spansOf(id, 2);
    worker.signal('SIGTERM');
    await worker.exited;

    expect(receiver.requests.every((request) => request.contentType === 'application/x-protobuf')).toBe(true);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['atf-server', 'atf-worker']));
    const serverSpan = spans.find((span) => span.kind === SpanKindOf.SERVER)!;
    expect(serverSpan.parentSpanId).toBe('1111111111111111');
    const producer = spans.find((span) => span.kind === SpanKindOf.PRODUCER)!;
    const attempts = attemptsOf(spans);
    expect(attempts.every((attempt) => attempt.parentSpanId === producer.spanId)).toBe(true);
    expect(linkOf(attempts[1]!, 'previous_attempt')).toMatchObject({ traceId, spanId: attempts[0]!.spanId });
    expect(attempts.map((attempt) => attempt.attributes['atf.attempt.outcome'])).toEqual(['retry', 'completed']);

    await captureWaterfall(spans, `Task ${id}: submitted, failed once (HTTP 503), retried, completed`);
  });

  it('http/json, the default linking: the attempt is a new trace linked to the producer span of the continued trace', async () => {
    const worker = await system.spawnWorker({ ...tracingEnv(), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const traceId = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
    const id = await submit(`Linked ${unique()}.`, `00-${traceId}-2222222222222222-01`);
    const spans = await spansOf(id, 1);
    worker.signal('SIGTERM');
    await worker.exited;

    expect(receiver.requests.some((request) => request.contentType === 'application/json')).toBe(true);
    const producer = spans.find((span) => span.kind === SpanKindOf.PRODUCER)!;
    expect(producer.traceId).toBe(traceId);
    const [attempt] = attemptsOf(spans);
    expect(attempt!.traceId).not.toBe(traceId);
    expect(attempt!.parentSpanId).toBeNull();
    expect(linkOf(attempt!, 'producer')).toMatchObject({ traceId, spanId: producer.spanId });
    const chat = spans.find((span) => span.name.startsWith('chat '))!;
    expect(chat).toMatchObject({ traceId: attempt!.traceId, parentSpanId: attempt!.spanId, service: 'atf-worker' });
  });
});

/** Draws the trace as a waterfall page and screenshots it (docs/screenshots/trace.png with UPDATE_SCREENSHOTS=1). */
async function captureWaterfall(spans: SpanRecord[], title: string): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'atf-trace-')), 'trace.html');
  writeFileSync(file, renderWaterfall(spans, title));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 360 } });
    await page.goto(`file://${file}`);
    await page.locator('table tr').first().waitFor();
    expect(await page.locator('table tr').count()).toBe(spans.length);
    // As the browser tests keep theirs (client/test/support/browser.ts): an artifact, and the docs' copy on request.
    const artifacts = join(import.meta.dirname, '..', 'test-artifacts', 'screenshots');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'trace.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(join(artifacts, 'trace.png'), join(import.meta.dirname, '..', 'docs', 'screenshots', 'trace.png'));
  } finally {
    await browser.close();
  }
}
