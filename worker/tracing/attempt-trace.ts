/**
 * An attempt's CONSUMER span and what it holds (docs/observability.md): by default a new root
 * linked to the submit's PRODUCER span (OTEL_TASK_PARENTING=child makes it that span's child),
 * linked to the previous attempt, starting when the task began to wait for it, with the
 * dispatch wait as its first child. At most MAX_SPANS_PER_ATTEMPT spans an attempt, whatever
 * runs in it: past that, spans are counted, not recorded.
 *
 * The store and provider wrappers find the running attempt by what their calls carry (its lease
 * token, its AbortSignal) in `AttemptRegistry`, not by an async context (common/tracing-sdk.ts
 * says why): work outside an attempt (sweeps, heartbeats, held releases) finds none.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Link, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { traceLogFields, type Tracing } from '../../common/tracing.ts';
import { Atf, AtfEvent, General, Messaging } from '../../common/semconv.ts';
import { TaskParenting } from '../../common/tracing-config.ts';
import { parseTraceParent } from '../../schema/src/trace-context.ts';
import type { QueueName } from '../../schema/src/redis-keys.ts';
import type { ClaimedTask } from '../task-store.ts';
import { attemptSpanContext, attemptSpanIds } from './attempt-ids.ts';
import type { AttemptTrace, AttemptTracer } from './types.ts';
import { dispatchWaitOf, isTakeover, PLAIN_CLAIM_REASON, type ClaimReasonReader, type DispatchWait } from './dispatch-wait.ts';

/** The attempt's span and every span inside it, together. */
export const MAX_SPANS_PER_ATTEMPT = 20;

/** The attempts running in one worker, by their lease token and their AbortSignal; an attempt leaves it when it ends. */
export class AttemptRegistry {
  private readonly byToken = new Map<string, TracedAttempt>();
  private readonly bySignal = new WeakMap<AbortSignal, TracedAttempt>();

  add(token: string, attempt: TracedAttempt): void {
    this.byToken.set(token, attempt);
  }
  watch(signal: AbortSignal, attempt: TracedAttempt): void {
    this.bySignal.set(signal, attempt);
  }
  remove(token: string): void {
    this.byToken.delete(token);
  }
  /** The running attempt holding lease `token`. */
  ofLease(token: string): TracedAttempt | null {
    return this.byToken.get(token) ?? null;
  }
  /** The running attempt whose signal `signal` is. */
  ofSignal(signal: AbortSignal): TracedAttempt | null {
    const attempt = this.bySignal.get(signal);
    return attempt && !attempt.ended ? attempt : null;
  }
}

/** What the spans of an attempt are built on. */
export class TracedAttempt implements AttemptTrace {
  private spans = 1;
  private dropped = 0;
  private outcome: string | null = null;
  ended = false;
  readonly logFields: Readonly<Record<string, string>>;

  constructor(
    readonly span: Span,
    private readonly tracer: Tracer,
    private readonly registry: AttemptRegistry,
    private readonly token: string,
  ) {
    this.logFields = traceLogFields(span);
    registry.add(token, this);
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

  watch(signal: AbortSignal): void {
    this.registry.watch(signal, this);
  }

  end(abortReason: unknown): void {
    const name = abortReason instanceof Error ? abortReason.name : null;
    if (name === 'CancelledError') this.settle('cancelled');
    else if (name === 'LeaseLostError') this.settle('lease_lost', name);
    else if (name === 'ShutdownError') this.settle('handed_back');
    else this.settle('failed', name ?? '_OTHER');
    if (this.dropped > 0) this.span.setAttribute(Atf.SPANS_DROPPED, this.dropped);
    this.ended = true;
    this.registry.remove(this.token);
    this.span.end();
  }
}

export interface AttemptTracerOptions {
  tracing: Tracing;
  registry: AttemptRegistry;
  /** Reads why a takeover's claim was made (dispatch-wait.ts); only takeovers need it. */
  readClaimReason: ClaimReasonReader;
}

const PRODUCER_LINK = { [Atf.LINK_KIND]: 'producer' };
const PREVIOUS_ATTEMPT_LINK = { [Atf.LINK_KIND]: 'previous_attempt' };

export function createAttemptTracer(options: AttemptTracerOptions): AttemptTracer {
  const { tracing } = options;
  const tracer = tracing.tracer('atf-worker');
  const asChild = tracing.config.parenting === TaskParenting.CHILD;

  return {
    async start(task: ClaimedTask & { taskId: string }, queue: QueueName, leaseToken: string): Promise<TracedAttempt> {
      const claimedAt = Date.now();
      const wait = dispatchWaitOf(task.waited, claimedAt);
      // Tracing never fails an attempt: a takeover whose reason cannot be read goes without it.
      const claimReason = isTakeover(task.waited) ? await options.readClaimReason(task.taskId, task.version).catch(() => null) : PLAIN_CLAIM_REASON;
      const producer = parseTraceParent(task.traceContext);
      const producerContext = producer
        ? { traceId: producer.traceId, spanId: producer.spanId, traceFlags: producer.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true }
        : null;
      const links: Link[] = [];
      if (producerContext && !asChild) links.push({ context: producerContext, attributes: PRODUCER_LINK });
      if (task.attempt > 1) {
        const previous = attemptSpanContext(task.taskId, producer, task.attempt - 1, asChild);
        links.push({ context: { ...previous, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: PREVIOUS_ATTEMPT_LINK });
      }
      const attributes: Attributes = {
        [Messaging.SYSTEM]: 'redis',
        [Messaging.OPERATION_TYPE]: 'process',
        [Messaging.OPERATION_NAME]: 'process',
        [Messaging.DESTINATION_NAME]: queue,
        [Messaging.MESSAGE_ID]: task.taskId,
        [Atf.TASK_ID]: task.taskId,
        [Atf.TASK_TYPE]: task.type,
        [Atf.TENANT]: task.tenant,
        [Atf.ATTEMPT]: task.attempt,
      };
      if (claimReason) attributes[Atf.CLAIM_REASON] = claimReason;
      const parent = asChild && producerContext ? trace.setSpanContext(ROOT_CONTEXT, producerContext) : ROOT_CONTEXT;
      const span = tracing.startSpanWithIds(
        tracer,
        `process ${queue}`,
        { kind: SpanKind.CONSUMER, startTime: wait?.since ?? claimedAt, links, attributes },
        parent,
        attemptSpanIds(task.taskId, producer, task.attempt),
      );
      const attempt = new TracedAttempt(span, tracer, options.registry, leaseToken);
      if (wait) recordWait(attempt, wait);
      return attempt;
    },
  };
}

/** The dispatch wait: from when the task began to wait for this attempt to its claim, and why. */
function recordWait(attempt: TracedAttempt, wait: DispatchWait): void {
  const attributes: Attributes = { [Atf.WAIT_REASON]: wait.reason };
  if (wait.queuedAt !== null) attributes[Atf.WAIT_LINE_MS] = wait.claimedAt - wait.queuedAt;
  const span = attempt.child('dispatch wait', { startTime: wait.since, attributes });
  if (wait.queuedAt !== null && wait.queuedAt > wait.since) span.addEvent(AtfEvent.QUEUED, undefined, wait.queuedAt);
  span.end(wait.claimedAt);
}
