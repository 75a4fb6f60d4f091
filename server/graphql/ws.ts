/**
 * graphql-ws on the HTTP server's /graphql path. graphql-ws bypasses Apollo's plugins, so the
 * same authentication, validation limits, introspection policy and error formatting are
 * applied here, and only subscriptions are accepted. Close codes are graphql-ws's own: 4403
 * for a missing, unknown or revoked key (and for a key over its connection cap), 4408 when
 * no connection_init arrives in time; the standard 1013 (try again later) when keys cannot be
 * checked; and ours, 4480
 * (SUBSCRIBER_TOO_SLOW), when a connection's subscriptions fall further behind than its
 * backlog allows (a client that stopped reading): events queued for it, or bytes queued plus
 * bytes its socket has not flushed.
 */
import type { IncomingMessage, Server } from 'node:http';
import {
  GraphQLError,
  getOperationAST,
  specifiedRules,
  type ExecutionArgs,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { ErrorCode } from '../../schema/src/errors.ts';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { bearerKey } from '../auth/api-keys.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { ANONYMOUS_ACTOR, type Caller } from '../auth/scopes.ts';
import { createBacklog, SUBSCRIBER_TOO_SLOW, type Backlog, type BacklogLimits } from '../services/backlog.ts';
import { isAllowedOrigin, isLoopbackHostHeader } from '../http/origin.ts';
import type { GraphQLContext, SubscriptionScope } from './context.ts';
import type { createFormatError } from './format-error.ts';
import { createDocumentCache } from './document-cache.ts';
import { introspectionRefusal, type IntrospectionPolicy } from './introspection.ts';
import { createFieldSelectionCheck } from './selects-field.ts';
import { createSharedSubscribe } from './shared-execution.ts';

export interface GraphQLWsOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  authenticator: Authenticator;
  /** The context of one subscription, with its connection's backlog. */
  context: (caller: Caller, subscription?: SubscriptionScope) => GraphQLContext;
  formatError: ReturnType<typeof createFormatError>;
  /** Rules besides GraphQL's own (the operation limits). */
  validationRules: readonly ValidationRule[];
  /** Who may introspect (GRAPHQL_INTROSPECTION); checked per caller once the document is valid. */
  introspection: IntrospectionPolicy;
  maxTokens: number;
  maxPayloadBytes: number;
  keepAliveMs: number;
  connectionInitWaitTimeoutMs: number;
  /** Browser origins allowed besides the server's own (CORS_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Refuse upgrades whose Host is not loopback (authentication off: DNS rebinding). */
  requireLoopbackHost?: boolean;
  /** Open subscriptions one connection may hold (WS_MAX_SUBSCRIPTIONS). */
  maxSubscriptionsPerConnection: number;
  /** Open connections one key may hold (WS_MAX_CONNECTIONS_PER_KEY). */
  maxConnectionsPerKey: number;
  /** How often open connections' keys are checked again, so a revoked key's sockets close (0: never). */
  reauthenticateMs: number;
  /** How far one connection's subscriptions may fall behind, together (WS_SUBSCRIBER_MAX_*). */
  subscriberLimits: BacklogLimits;
}

/** This process's WebSocket connections now, and those it closed as too slow since it started. */
export interface WebSocketCounts {
  connections: number;
  subscriptions: number;
  slowSubscribersClosed: number;
}

// `request` is let go once the connection is acknowledged (see onConnect).
type WsContext = Context<Record<string, unknown> | undefined, { socket: import('ws').WebSocket; request?: IncomingMessage }>;

const presentedKey = (ctx: WsContext) => {
  const authorization = ctx.connectionParams?.authorization;
  return bearerKey(typeof authorization === 'string' ? authorization : null);
};

export function attachGraphQLWs(options: GraphQLWsOptions) {
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: options.maxPayloadBytes,
    verifyClient: ({ origin, req }: { origin: string; req: IncomingMessage }) =>
      (!options.requireLoopbackHost || isLoopbackHostHeader(req.headers.host)) && isAllowedOrigin(origin || undefined, req.headers.host, options.allowedOrigins),
  });
  const rules = [...specifiedRules, ...options.validationRules];
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => options.formatError(error.toJSON(), error)) as unknown as GraphQLError[];
  /**
   * Acknowledged connections: who each acts as, and its backlog (a client that stops reading is
   * closed, not buffered for).
   */
  const connections = new Map<WsContext, { caller: Caller; backlog: Backlog }>();
  const connectionsPerKey = new Map<string, number>();
  let slowSubscribersClosed = 0;
  const sharedExecution = createSharedSubscribe();
  const documents = createDocumentCache({ schema: options.schema, rules, maxTokens: options.maxTokens, maxEntries: 1000 });
  const selectsTaskContent = createFieldSelectionCheck(options.schema, 'Task', 'content');

  /** Authenticates the connection's key; closes the socket (and answers false) when it fails. */
  async function authenticate(ctx: WsContext): Promise<Caller | null> {
    let caller: Caller | null;
    try {
      caller = await options.authenticator.authenticate(presentedKey(ctx));
    } catch {
      // 1013 (Try Again Later), not graphql-ws' 4500: clients give up after a 4500, and this passes.
      ctx.extra.socket.close(1013, 'cannot check API keys right now; reconnect later');
      return null;
    }
    if (!caller) ctx.extra.socket.close(CloseCode.Forbidden, 'missing or invalid API key');
    return caller;
  }

  /**
   * Checks every open connection's key again (once per key) and closes those whose key was
   * revoked with 4403. A Redis outage keeps them open: the next round checks again.
   */
  async function recheckKeys(): Promise<void> {
    const byActor = new Map<string, WsContext[]>();
    for (const [ctx, { caller }] of connections) {
      if (caller.actor !== ANONYMOUS_ACTOR) byActor.set(caller.actor, [...(byActor.get(caller.actor) ?? []), ctx]);
    }
    for (const contexts of byActor.values()) {
      try {
        if (await options.authenticator.authenticate(presentedKey(contexts[0]!))) continue;
      } catch {
        continue;
      }
      for (const ctx of contexts) ctx.extra.socket.close(CloseCode.Forbidden, 'API key revoked');
    }
  }
  let rechecking = false;
  const recheckTimer =
    options.reauthenticateMs > 0
      ? setInterval(() => {
          if (rechecking) return;
          rechecking = true;
          void recheckKeys().finally(() => (rechecking = false));
        }, options.reauthenticateMs)
      : null;
  recheckTimer?.unref();

  const disposable = useServer(
    {
      schema: options.schema,
      subscribe: sharedExecution.subscribe,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs,
      onConnect: async (ctx) => {
        const caller = await authenticate(ctx);
        if (!caller) return false;
        // The socket may have closed while the key was checked; graphql-ws then never calls
        // onDisconnect for it, so it must not be counted.
        if (ctx.extra.socket.readyState !== WebSocket.OPEN) return false;
        const open = connectionsPerKey.get(caller.actor) ?? 0;
        // Without keys every caller is the one anonymous actor: a per-key cap would be a global one.
        if (caller.actor !== ANONYMOUS_ACTOR && open >= options.maxConnectionsPerKey) {
          ctx.extra.socket.close(CloseCode.Forbidden, `at most ${options.maxConnectionsPerKey} connections per API key`);
          return false;
        }
        connectionsPerKey.set(caller.actor, open + 1);
        // The upgrade request (headers, buffers, its stream state) was needed only to get here;
        // graphql-ws would keep it for the connection's life.
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        const socket = ctx.extra.socket;
        const backlog = createBacklog(options.subscriberLimits, () => socket.bufferedAmount);
        backlog.onOverflow(() => {
          slowSubscribersClosed += 1;
          socket.close(SUBSCRIBER_TOO_SLOW, 'subscriber fell behind; reconnect and resume (taskUpdated: afterVersion)');
        });
        connections.set(ctx, { caller, backlog });
        return true;
      },
      onDisconnect: (ctx) => {
        const caller = connections.get(ctx)?.caller;
        if (!caller) return;
        connections.delete(ctx);
        const open = (connectionsPerKey.get(caller.actor) ?? 1) - 1;
        if (open > 0) connectionsPerKey.set(caller.actor, open);
        else connectionsPerKey.delete(caller.actor);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already registered this subscription's id when it calls onSubscribe.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`at most ${options.maxSubscriptionsPerConnection} subscriptions per connection`, { extensions: { code: ErrorCode.BAD_REQUEST } })];
        }
        // Checked again on every subscribe, so a revoked key stops working on open sockets too.
        const caller = await authenticate(ctx);
        if (!caller) return [new GraphQLError('missing or invalid API key', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
        // Errors are returned raw (graphql-ws checks they are GraphQLErrors); onError formats them.
        const { document, errors } = documents.get(payload.query);
        if (errors) return [...errors];
        const refusal = introspectionRefusal(document, options.introspection, caller, options.authenticator.required);
        if (refusal) return [refusal];
        const operation = getOperationAST(document, payload.operationName);
        if (operation?.operation !== 'subscription') {
          return [new GraphQLError('only subscriptions are served over WebSocket; use HTTP POST for queries and mutations', { extensions: { code: ErrorCode.BAD_REQUEST } })];
        }
        // Subscribers of the same operation with the same rights share each event's execution.
        const operationKey = JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, caller.tenant, [...caller.scopes].sort()]);
        const contextValue = options.context(caller, { backlog: connections.get(ctx)?.backlog, prefetchContent: selectsTaskContent(document) });
        sharedExecution.register(contextValue, operationKey);
        const args: ExecutionArgs = {
          schema: options.schema,
          document,
          variableValues: payload.variables ?? null,
          operationName: payload.operationName ?? null,
          contextValue,
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (ctx, _id, _payload, _args, result) => {
        // Runs before each message is sent. A socket that flushes everything at once holds
        // nothing (bufferedAmount 0: one read, no lookup); one whose client stopped reading
        // holds the last messages, which count against the connection's backlog. Closing here
        // also keeps this message back: graphql-ws sends only on an open socket.
        if (ctx.extra.socket.bufferedAmount > 0) connections.get(ctx)?.backlog.check();
        return result.errors ? { ...result, errors: format(result.errors) } : result;
      },
    },
    wss,
    options.keepAliveMs,
  );

  return {
    wss,
    /**
     * Open (acknowledged) connections and the subscriptions they hold, and the connections
     * closed so far because they fell behind (4480), for /metrics.
     */
    counts: (): WebSocketCounts => {
      let subscriptions = 0;
      for (const ctx of connections.keys()) subscriptions += Object.keys(ctx.subscriptions).length;
      return { connections: connections.size, subscriptions, slowSubscribersClosed };
    },
    /** Closes every socket (1001 going away) and stops accepting new ones. */
    dispose: async () => {
      if (recheckTimer) clearInterval(recheckTimer);
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
