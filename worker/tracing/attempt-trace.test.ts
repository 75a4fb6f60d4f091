import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../common/tracing.ts';
import { tracingConfigFrom } from '../../common/tracing-config.ts';
import { parseTraceParent } from '../../schema/src/trace-context.ts';
import { attemptSpanContext, attemptSpanIds } from './attempt-ids.ts';
import { AttemptRegistry, createAttemptTracer, MAX_SPANS_PER_ATTEMPT, type TracedAttempt } from './attempt-trace.ts';
import { dispatchWaitOf } from './dispatch-wait.ts';

const exporter = new InMemorySpanExporter();
const tracing = (await startTracing(tracingConfigFrom({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 1, OTEL_BSP_SCHEDULE_DELAY: 1 }), {
  defaultServiceName: 'atf-test',
  exporter,
  exportEachSpan: true,
}))!;
afterAll(() => tracing.shutdown());

const task = (attempt: number) => ({
  taskId: 'task-1',
  version: 7,
  attempt,
  content: 'x',
  type: 'SUMMARIZE' as const,
  tenant: 'acme',
  retryCount: attempt - 1,
  maxRetries: 3,
  traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  waited: { queuedAt: null, reason: null, since: null, fromState: 'PENDING' },
});

describe('an attempt span', () => {
  it('holds at most MAX_SPANS_PER_ATTEMPT spans with itself; the rest are counted as dropped', async () => {
    exporter.reset();
    const registry = new AttemptRegistry();
    const tracer = createAttemptTracer({ tracing, registry, readWait: async () => null });
    const attempt = await tracer.start(task(1), 'primary', 'token-1');
    for (let i = 0; i < 30; i += 1) registry.ofLease('token-1')!.child(`child ${i}`).end();
    attempt.end(null);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(MAX_SPANS_PER_ATTEMPT);
    expect(spans.find((span) => span.name === 'process primary')!.attributes['atf.trace.spans_dropped']).toBe(30 - (MAX_SPANS_PER_ATTEMPT - 1));
  });

  it('is found by the next attempt from the task alone: its ids are the ones attempt-ids derives', async () => {
    exporter.reset();
    const tracer = createAttemptTracer({ tracing, registry: new AttemptRegistry(), readWait: async () => null });
    const first = await tracer.start(task(1), 'primary', 'token-1');
    first.end(null);
    const second = await tracer.start(task(2), 'retry', 'token-2');
    second.end(null);
    const [one, two] = exporter.getFinishedSpans();
    const { traceId, spanId } = one!.spanContext();
    expect(two!.links.find((link) => link.attributes?.['atf.link.kind'] === 'previous_attempt')!.context).toMatchObject({ traceId, spanId });
    expect(one!.spanContext()).toMatchObject(attemptSpanIds('task-1', parseTraceParent(task(1).traceContext), 1));
  });

  it('is found by its lease and its signal while it runs, and by nothing once it ended', async () => {
    const registry = new AttemptRegistry();
    const tracer = createAttemptTracer({ tracing, registry, readWait: async () => null });
    const attempt = await tracer.start(task(3), 'primary', 'token-3');
    const signal = new AbortController().signal;
    attempt.watch(signal);
    expect(registry.ofLease('token-3')).toBe(attempt);
    expect(registry.ofSignal(signal)).toBe(attempt);
    attempt.end(null);
    const after: (TracedAttempt | null)[] = [registry.ofLease('token-3'), registry.ofSignal(signal)];
    expect(after).toEqual([null, null]);
  });
});

describe('attempt ids', () => {
  it('differ by attempt and task, and keep the submit trace as a child', () => {
    const producer = parseTraceParent(task(1).traceContext);
    expect(attemptSpanIds('t', producer, 1)).not.toEqual(attemptSpanIds('t', producer, 2));
    expect(attemptSpanIds('t', producer, 1)).not.toEqual(attemptSpanIds('u', producer, 1));
    expect(attemptSpanContext('t', producer, 1, true).traceId).toBe(producer!.traceId);
    expect(attemptSpanIds('t', null, 1).traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('the dispatch wait', () => {
  const event = (fields: Record<string, string>, task: Record<string, unknown>): string[] => [...Object.entries(fields).flat(), 'task', JSON.stringify(task)];

  it('starts at the transition before the claim, with the reason the record gave', () => {
    const wait = dispatchWaitOf(
      [
        ['0-6', event({ at: '1000', state: 'SCHEDULED', reason: 'NETWORK_TIMEOUT' }, { waitReason: 'RETRY_DELAY' })],
        ['0-7', event({ at: '1500', state: 'ACTIVE', reason: 'claimed' }, { queuedAt: '1400' })],
      ],
      7,
    );
    expect(wait).toEqual({ since: 1000, claimedAt: 1500, queuedAt: 1400, reason: 'RETRY_DELAY', claimReason: 'claimed' });
  });

  it('after a lost attempt, waits for its lease; a queue time from before the wait is not this one', () => {
    const wait = dispatchWaitOf(
      [
        ['0-6', event({ at: '1000', state: 'ACTIVE', reason: 'progress' }, {})],
        ['0-7', event({ at: '4000', state: 'ACTIVE', reason: 'reclaimed after lease expiry' }, { queuedAt: '500' })],
      ],
      7,
    );
    expect(wait).toMatchObject({ since: 1000, queuedAt: null, reason: 'LEASE' });
  });

  it('is unknown without the claim event', () => {
    expect(dispatchWaitOf([], 7)).toBeNull();
  });
});
