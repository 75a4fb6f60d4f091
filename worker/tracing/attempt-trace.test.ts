import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../common/tracing.ts';
import { tracingConfigFrom } from '../../common/tracing-config.ts';
import { parseTraceParent } from '../../schema/src/trace-context.ts';
import { attemptSpanContext, attemptSpanIds } from './attempt-ids.ts';
import { AttemptRegistry, createAttemptTracer, MAX_SPANS_PER_ATTEMPT, type TracedAttempt } from './attempt-trace.ts';
import { dispatchWaitOf } from './dispatch-wait.ts';
import type { ClaimWait } from '../../schema/src/scripts/claim.ts';

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
    const tracer = createAttemptTracer({ tracing, registry, readClaimReason: async () => null });
    const attempt = await tracer.start(task(1), 'primary', 'token-1');
    for (let i = 0; i < 30; i += 1) registry.ofLease('token-1')!.child(`child ${i}`).end();
    attempt.end(null);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(MAX_SPANS_PER_ATTEMPT);
    expect(spans.find((span) => span.name === 'process primary')!.attributes['atf.trace.spans_dropped']).toBe(30 - (MAX_SPANS_PER_ATTEMPT - 1));
  });

  it('is found by the next attempt from the task alone: its ids are the ones attempt-ids derives', async () => {
    exporter.reset();
    const tracer = createAttemptTracer({ tracing, registry: new AttemptRegistry(), readClaimReason: async () => null });
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
    const tracer = createAttemptTracer({ tracing, registry, readClaimReason: async () => null });
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
  const waited = (fields: Partial<ClaimWait>): ClaimWait => ({ queuedAt: null, reason: null, since: null, fromState: 'PENDING', ...fields });

  it('starts at the transition before the claim, with the reason the record gave', () => {
    const wait = dispatchWaitOf(waited({ since: 1000, queuedAt: 1400, reason: 'RETRY_DELAY', fromState: 'SCHEDULED' }), 1500);
    expect(wait).toEqual({ since: 1000, claimedAt: 1500, queuedAt: 1400, reason: 'RETRY_DELAY' });
  });

  it('after a lost attempt, waits for its lease; a queue time from before the wait is not this one', () => {
    const wait = dispatchWaitOf(waited({ since: 1000, queuedAt: 500, fromState: 'ACTIVE' }), 4000);
    expect(wait).toMatchObject({ since: 1000, queuedAt: null, reason: 'LEASE' });
  });

  it('is QUEUED without a stored reason, from the queue time when the record has no other', () => {
    expect(dispatchWaitOf(waited({ queuedAt: 1400 }), 1500)).toEqual({ since: 1400, claimedAt: 1500, queuedAt: 1400, reason: 'QUEUED' });
  });

  it('is unknown when the record tells no time', () => {
    expect(dispatchWaitOf(waited({}), 1500)).toBeNull();
  });

  it('never ends before it began, whatever the worker clock says', () => {
    expect(dispatchWaitOf(waited({ since: 2000, queuedAt: 2100 }), 1500)).toEqual({ since: 1500, claimedAt: 1500, queuedAt: null, reason: 'QUEUED' });
    expect(dispatchWaitOf(waited({ since: 1000 }), 1500)).toMatchObject({ since: 1000, claimedAt: 1500 });
  });

  it('reads the claim reason of a takeover only', async () => {
    const reads: number[] = [];
    const tracer = createAttemptTracer({ tracing, registry: new AttemptRegistry(), readClaimReason: async (_id, version) => (reads.push(version), 'reclaimed after lease expiry') });
    exporter.reset();
    (await tracer.start(task(1), 'primary', 'token-5')).end(null);
    (await tracer.start({ ...task(2), waited: waited({ since: 1000, fromState: 'ACTIVE' }) }, 'retry', 'token-6')).end(null);
    expect(reads).toEqual([7]);
    expect(exporter.getFinishedSpans().filter((span) => span.name.startsWith('process ')).map((span) => span.attributes['atf.task.claim_reason'])).toEqual(['claimed', 'reclaimed after lease expiry']);
  });
});
