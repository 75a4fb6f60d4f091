/**
 * The API server's spans (docs/observability.md): a request that submits a task gets a SERVER
 * span, continuing the caller's W3C `traceparent` or starting a trace, and each submit in it a
 * PRODUCER span whose context the create script stores with the task. Requests that submit
 * nothing leave no span. Loaded only when tracing is on (server/main.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, createContextKey, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Tracing } from '../../common/tracing.ts';
import { Atf, Http, Messaging, General } from '../../common/semconv.ts';
import { isAppError } from '../../schema/src/errors.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { formatTraceParent } from '../../schema/src/trace-context.ts';

/** Spans of one request past this many: none (the bound of docs/observability.md, 50 per trace before any attempt). */
const MAX_SPANS_PER_REQUEST = 50;

/** What one traced request knows until a submit needs its SERVER span. */
interface RequestScope {
  parent: Context;
  startTime: number;
  method: string;
  path: string;
  userAgent: string | undefined;
  server: Span | null;
  spans: number;
}

/** One submit's PRODUCER span. */
export interface SubmitSpan {
  /** The W3C traceparent to store with the task: each attempt links to (or descends from) it. */
  readonly traceContext: string;
  /** Runs `work` with the span active (its log lines carry its ids). */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the span with what the create script answered, or the error it failed with. */
  end(outcome: { status: string } | { error: unknown }): void;
}

export interface ServerTracing {
  /** Runs one GraphQL HTTP request; a submit inside it gets the request's SERVER span. */
  handleRequest<T>(req: IncomingMessage, res: ServerResponse, handle: () => Promise<T>): Promise<T>;
  /** The PRODUCER span of submitting task `taskId` (and its request's SERVER span, on the first). */
  startSubmit(task: { id: string; tenant: string; type: string }): SubmitSpan;
}

const REQUEST = createContextKey('atf.request');
const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

export function createServerTracing(tracing: Tracing): ServerTracing {
  const tracer = tracing.tracer('atf-server');

  /** The request's SERVER span, started (back-dated to the request) by its first submit. */
  function serverSpanOf(scope: RequestScope): Span {
    scope.server ??= tracer.startSpan(
      `${scope.method} /graphql`,
      {
        kind: SpanKind.SERVER,
        startTime: scope.startTime,
        attributes: {
          [Http.REQUEST_METHOD]: scope.method,
          [Http.ROUTE]: '/graphql',
          [Http.URL_PATH]: scope.path,
          [Http.URL_SCHEME]: 'http',
          ...(scope.userAgent ? { [Http.USER_AGENT]: scope.userAgent } : {}),
        },
      },
      scope.parent,
    );
    return scope.server;
  }

  return {
    async handleRequest(req, res, handle) {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
      const scope: RequestScope = {
        parent,
        startTime: Date.now(),
        method: (req.method ?? 'POST').toUpperCase(),
        path: (req.url ?? '/graphql').split('?')[0]!,
        userAgent: req.headers['user-agent'],
        server: null,
        spans: 1,
      };
      try {
        return await context.with(parent.setValue(REQUEST, scope), handle);
      } finally {
        if (scope.server) {
          scope.server.setAttribute(Http.RESPONSE_STATUS_CODE, res.statusCode);
          if (res.statusCode >= 500) {
            scope.server.setAttribute(General.ERROR_TYPE, String(res.statusCode));
            scope.server.setStatus({ code: SpanStatusCode.ERROR });
          }
          scope.server.end();
        }
      }
    },

    startSubmit(task) {
      const scope = context.active().getValue(REQUEST) as RequestScope | undefined;
      const server = scope ? serverSpanOf(scope) : null;
      const parent = scope && server ? trace.setSpan(scope.parent, server) : context.active();
      // Past the bound the task descends from the SERVER span itself: still traced, never larger.
      const overBound = scope !== undefined && scope.spans >= MAX_SPANS_PER_REQUEST;
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
      if (scope && span) scope.spans += 1;
      // Only past the bound is there no PRODUCER span, and then there is a SERVER span.
      const { traceId, spanId, traceFlags } = (span ?? server)!.spanContext();
      const traceContext = formatTraceParent({ traceId, spanId, sampled: (traceFlags & 1) === 1 });
      return {
        traceContext,
        run: (work) => (span ? context.with(trace.setSpan(context.active(), span), work) : work()),
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
