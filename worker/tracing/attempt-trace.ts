/**
 * An attempt's CONSUMER span and what it holds (docs/observability.md): by default a new root
 * linked to the submit's PRODUCER span (OTEL_TASK_PARENTING=child makes it that span's child),
 * linked to the previous attempt, starting when the task began to wait for it, with the
 * dispatch wait as its first child. At most MAX_SPANS_PER_ATTEMPT spans an attempt, whatever
 * runs in it: past that, spans are counted, not recorded.
 */
import { context, createContextKey, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Link, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import type { Tracing } from '../../common/tracing.ts';
import { Atf, AtfEvent, General, Messaging } from '../../common/semconv.ts';
import { TaskParenting } from '../../common/tracing-config.ts';
import { parseTraceParent } from '../../schema/src/trace-context.ts';
import type { QueueName } from '../../schema/src/redis-keys.ts';
import type { ClaimedTask } from '../task-store.ts';
import { attemptSpanContext, attemptSpanIds } from './attempt-ids.ts';
import type { AttemptTrace, AttemptTracer } from './types.ts';
import type { DispatchWait } from './dispatch-wait.ts';

/** The attempt's span and every span inside it, together. */
export const MAX_SPANS_PER_ATTEMPT = 20;

const ATTEMPT = createContextKey('atf.attempt');

/** What the spans of an attempt are built on; the store and provider wrappers find it in the active context. */
export class TracedAttempt implements AttemptTrace {
  private spans = 1;
  private dropped = 0;
  private outcome: string | null = null;
  private ended = false;

  constructor(
    readonly span: Span,
    private readonly tracer: Tracer,
  ) {}

  /**
   * The attempt running in the active context, if any. A timer created inside an attempt keeps
   * its context after the attempt ended: it finds none, so nothing it does joins the trace.
   */
  static current(): TracedAttempt | null {
    const attempt = context.active().getValue(ATTEMPT) as TracedAttempt | undefined;
    return attempt && !attempt.ended ? attempt : null;
  }

  /** A span inside the attempt, or a span that records nothing once the attempt has its fill. */
  child(name: string, options: SpanOptions = {}): Span {
    if (this.ended || this.spans >= MAX_SPANS_PER_ATTEMPT) {
      this.dropped += 1;
      return trace.wrapSpanContext(this.span.spanContext());
    }
    this.spans += 1;
    return this.tracer.startSpan(name, options, trace.setSpan(ROOT_CONTEXT, this.span));
  }

  /** How the attempt ended (the first word wins: a write that settles it comes before its abort). */
  settle(outcome: string, errorType?: string): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    this.span.setAttribute(Atf.ATTEMPT_OUTCOME, outcome);
    if (errorType) {
      this.span.setAttribute(General.ERROR_TYPE, errorType);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    // On the root context: nothing of the bee-queue loop that delivered the job comes along.
    return context.with(trace.setSpan(ROOT_CONTEXT, this.span).setValue(ATTEMPT, this), work);
  }

  end(abortReason: unknown): void {
    const name = abortReason instanceof Error ? abortReason.name : null;
    if (name === 'CancelledError') this.settle('cancelled');
    else if (name === 'LeaseLostError') this.settle('lease_lost', name);
    else if (name === 'ShutdownError') this.settle('handed_back');
    else this.settle('failed', name ?? '_OTHER');
    if (this.dropped > 0) this.span.setAttribute(Atf.SPANS_DROPPED, this.dropped);
    this.ended = true;
    this.span.end();
  }
}

export interface AttemptTracerOptions {
  tracing: Tracing;
  /** Reads how the task waited for this attempt (dispatch-wait.ts); null when it cannot be told. */
  readWait(taskId: string, version: number): Promise<DispatchWait | null>;
}

export function createAttemptTracer(options: AttemptTracerOptions): AttemptTracer {
  const { tracing } = options;
  const tracer = tracing.tracer('atf-worker');
  const asChild = tracing.config.parenting === TaskParenting.CHILD;

  return {
    async start(task: ClaimedTask & { taskId: string }, queue: QueueName): Promise<TracedAttempt> {
      const producer = parseTraceParent(task.traceContext);
      const producerContext = producer
        ? { traceId: producer.traceId, spanId: producer.spanId, traceFlags: producer.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true }
        : null;
      const links: Link[] = [];
      if (producerContext && !asChild) links.push({ context: producerContext, attributes: { [Atf.LINK_KIND]: 'producer' } });
      if (task.attempt > 1) {
        const previous = attemptSpanContext(task.taskId, producer, task.attempt - 1, asChild);
        links.push({ context: { ...previous, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { [Atf.LINK_KIND]: 'previous_attempt' } });
      }
      // Tracing never fails an attempt: without the wait, the span starts at the claim.
      const wait = await options.readWait(task.taskId, task.version).catch(() => null);
      const parent = asChild && producerContext ? trace.setSpanContext(ROOT_CONTEXT, producerContext) : ROOT_CONTEXT;
      const span = tracing.startSpanWithIds(
        tracer,
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          startTime: wait?.since ?? Date.now(),
          links,
          attributes: {
            [Messaging.SYSTEM]: 'redis',
            [Messaging.OPERATION_TYPE]: 'process',
            [Messaging.OPERATION_NAME]: 'process',
            [Messaging.DESTINATION_NAME]: queue,
            [Messaging.MESSAGE_ID]: task.taskId,
            [Atf.TASK_ID]: task.taskId,
            [Atf.TASK_TYPE]: task.type,
            [Atf.TENANT]: task.tenant,
            [Atf.ATTEMPT]: task.attempt,
            ...(wait?.claimReason ? { [Atf.CLAIM_REASON]: wait.claimReason } : {}),
          },
        },
        parent,
        attemptSpanIds(task.taskId, producer, task.attempt),
      );
      const attempt = new TracedAttempt(span, tracer);
      if (wait) recordWait(attempt, wait);
      return attempt;
    },
  };
}

/** The dispatch wait: from when the task began to wait for this attempt to its claim, and why. */
function recordWait(attempt: TracedAttempt, wait: DispatchWait): void {
  const span = attempt.child('dispatch wait', {
    startTime: wait.since,
    attributes: {
      [Atf.WAIT_REASON]: wait.reason,
      ...(wait.queuedAt !== null ? { [Atf.WAIT_LINE_MS]: Math.max(0, wait.claimedAt - wait.queuedAt) } : {}),
    },
  });
  if (wait.queuedAt !== null && wait.queuedAt > wait.since) span.addEvent(AtfEvent.QUEUED, {}, wait.queuedAt);
  span.end(wait.claimedAt);
}
