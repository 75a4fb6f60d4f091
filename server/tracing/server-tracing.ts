/**
 * The API server's spans (docs/observability.md): a request that submits a task gets a SERVER
 * span, continuing the caller's W3C `traceparent` or starting a trace, and each submit in it a
 * PRODUCER span whose context the create script stores with the task. Requests that submit
 * nothing leave no span. The request's scope travels in its GraphQL context (no async context:
 * see common/tracing-sdk.ts). Loaded only when tracing is on (server/main.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { traceLogFields, type TraceLogFields, type Tracing } from '../../common/tracing.ts';
import { Atf, Http, Messaging, General } from '../../common/semconv.ts';
import { isAppError } from '../../schema/src/errors.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { formatTraceParent } from '../../schema/src/trace-context.ts';

/** Spans of one request past this many: none (the bound of docs/observability.md, 50 per trace before any attempt). */
const MAX_SPANS_PER_REQUEST = 50;

/** What one traced request knows until a submit needs its SERVER span. */
export interface RequestTrace {
  readonly parent: Context;
  readonly startTime: number;
  readonly method: string;
  readonly path: string;
  readonly userAgent: string | undefined;
  server: Span | null;
  spans: number;
}

/** One submit's PRODUCER span. */
export interface SubmitSpan {
  /** The W3C traceparent to store with the task: each attempt links to (or descends from) it. */
  readonly traceContext: string;
  /** For a child logger: the submit's log lines carry its ids. */
  readonly logFields: TraceLogFields | Record<string, never>;
  /** Ends the span with what the create script answered, or the error it failed with. */
  end(outcome: { status: string } | { error: unknown }): void;
}

export interface ServerTracing {
  /** The scope of one GraphQL HTTP request: its caller's trace context and start. */
  startRequest(req: IncomingMessage): RequestTrace;
  /** Ends the request's SERVER span, if a submit started one. */
  endRequest(request: RequestTrace, res: ServerResponse): void;
  /** The PRODUCER span of submitting `task` (and its request's SERVER span, on the first). */
  startSubmit(task: { id: string; tenant: string; type: string }, request: RequestTrace | null): SubmitSpan;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

export function createServerTracing(tracing: Tracing): ServerTracing {
  const tracer = tracing.tracer('atf-server');

  /** The request's SERVER span, started (back-dated to the request) by its first submit. */
  function serverSpanOf(request: RequestTrace): Span {
    request.server ??= tracer.startSpan(
      `${request.method} /graphql`,
      {
        kind: SpanKind.SERVER,
        startTime: request.startTime,
        attributes: {
          [Http.REQUEST_METHOD]: request.method,
          [Http.ROUTE]: '/graphql',
          [Http.URL_PATH]: request.path,
          [Http.URL_SCHEME]: 'http',
          ...(request.userAgent ? { [Http.USER_AGENT]: request.userAgent } : {}),
        },
      },
      request.parent,
    );
    return request.server;
  }

  return {
    startRequest: (req) => ({
      parent: propagator.extract(ROOT_CONTEXT, req.headers, headerGetter),
      startTime: Date.now(),
      method: (req.method ?? 'POST').toUpperCase(),
      path: (req.url ?? '/graphql').split('?')[0]!,
      userAgent: req.headers['user-agent'],
      server: null,
      spans: 1,
    }),

    endRequest(request, res) {
      if (!request.server) return;
      request.server.setAttribute(Http.RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) {
        request.server.setAttribute(General.ERROR_TYPE, String(res.statusCode));
        request.server.setStatus({ code: SpanStatusCode.ERROR });
      }
      request.server.end();
    },

    startSubmit(task, request) {
      const server = request ? serverSpanOf(request) : null;
      const parent = request && server ? trace.setSpan(request.parent, server) : ROOT_CONTEXT;
      // Past the bound the task descends from the SERVER span itself: still traced, never larger.
      const overBound = request !== null && request.spans >= MAX_SPANS_PER_REQUEST;
      const span = overBound
        ? null
        : tracer.startSpan(
            `send ${QueueName.PRIMARY}`,
            {
              kind: SpanKind.PRODUCER,
              attributes: {
                [Messaging.SYSTEM]: 'redis',
                [Messaging.OPERATION_TYPE]: 'send',
                [Messaging.OPERATION_NAME]: 'send',
                [Messaging.DESTINATION_NAME]: QueueName.PRIMARY,
                [Messaging.MESSAGE_ID]: task.id,
                [Atf.TASK_ID]: task.id,
                [Atf.TASK_TYPE]: task.type,
                [Atf.TENANT]: task.tenant,
              },
            },
            parent,
          );
      if (request && span) request.spans += 1;
      // Only past the bound is there no PRODUCER span, and then there is a SERVER span.
      const own = (span ?? server)!;
      const { traceId, spanId, traceFlags } = own.spanContext();
      return {
        traceContext: formatTraceParent({ traceId, spanId, sampled: (traceFlags & 1) === 1 }),
        logFields: traceLogFields(own),
        end(outcome) {
          if (!span) return;
          if ('error' in outcome) {
            span.setAttribute(General.ERROR_TYPE, isAppError(outcome.error) ? outcome.error.code : 'INTERNAL');
            span.setStatus({ code: SpanStatusCode.ERROR });
          } else {
            span.setAttribute(Atf.SUBMIT_OUTCOME, outcome.status);
          }
          span.end();
        },
      };
    },
  };
}
