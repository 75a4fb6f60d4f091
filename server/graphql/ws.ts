/**
 * graphql-ws on the HTTP server's /graphql path. graphql-ws bypasses Apollo's plugins, so
 * the same error formatting is applied here, and only subscriptions are accepted.
 */
import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, getOperationAST, parse, validate, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from './context.ts';
import { isAllowedOrigin } from '../http/origin.ts';
import type { createFormatError } from './format-error.ts';

export interface GraphQLWsOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  context: () => GraphQLContext;
  formatError: ReturnType<typeof createFormatError>;
  maxPayloadBytes: number;
  keepAliveMs: number;
  connectionInitWaitTimeoutMs: number;
  /** Browser origins allowed besides the server's own (CORS_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Open subscriptions one connection may hold (WS_MAX_SUBSCRIPTIONS). */
  maxSubscriptionsPerConnection: number;
}

export function attachGraphQLWs(options: GraphQLWsOptions) {
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: options.maxPayloadBytes,
    verifyClient: ({ origin, req }: { origin: string; req: IncomingMessage }) => isAllowedOrigin(origin || undefined, req.headers.host, options.allowedOrigins),
  });
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => options.formatError(error.toJSON(), error)) as unknown as GraphQLError[];

  const disposable = useServer(
    {
      schema: options.schema,
      context: () => options.context() as unknown as Record<string, unknown>,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs,
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws has already registered this subscription's id when it calls onSubscribe.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`at most ${options.maxSubscriptionsPerConnection} subscriptions per connection`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(options.schema, document);
        if (errors.length > 0) return format(errors);
        const operation = getOperationAST(document, payload.operationName);
        if (operation?.operation !== 'subscription') {
          return [new GraphQLError('only subscriptions are served over WebSocket; use HTTP POST for queries and mutations', { extensions: { code: 'BAD_REQUEST' } })];
        }
        const args: ExecutionArgs = {
          schema: options.schema,
          document,
          variableValues: payload.variables ?? null,
          operationName: payload.operationName ?? null,
          contextValue: options.context(),
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : result,
    },
    wss,
    options.keepAliveMs,
  );

  return {
    wss,
    /** Closes every socket (1001 going away) and stops accepting new ones. */
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
