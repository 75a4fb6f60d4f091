/**
 * One urql Client for the app: queries and mutations over HTTP POST (Apollo's CSRF
 * prevention rejects urql's GET), subscriptions over one graphql-ws connection that
 * reconnects forever and reports its state for the connection badge. Nothing polls: after a
 * reconnect graphql-ws resubscribes; a task's feed starts with its snapshot (or resumes from its
 * version or cursor), and a feed without one says when it is live, which tells a list to read
 * again (create-live-tasks.ts).
 *
 * The API key (auth.ts) goes in the Authorization header over HTTP and in the
 * connection_init payload over WebSocket. A 401 or a 4403 close asks for a key; until one is
 * given the socket waits instead of hammering the server.
 *
 * A subscription that resumes from a cursor (taskOutput) says so in its operation context
 * (`ResumableContext`): see `subscriptionPayload`.
 */
import { Client, fetchExchange, subscriptionExchange, type Operation, type SubscriptionOperation } from '@urql/core';
import { createClient as createWsClient, type SubscribePayload } from 'graphql-ws';
import { createSignal, on, createRoot, createEffect, type Accessor } from 'solid-js';
import { apiKey, authorization, keyRequired, reportUnauthenticated } from './auth.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface AppClient {
  client: Client;
  connection: Accessor<ConnectionState>;
  dispose(): void;
}

/** The WebSocket close code the server uses for a missing or refused key. */
export const CLOSE_FORBIDDEN = 4403;

/** Operation context of a subscription that resumes where it stopped after a reconnect. */
export interface ResumableContext {
  /** Variables to send instead of the first ones, read each time the subscription is (re)sent. */
  resumeVariables?: () => Record<string, unknown>;
}

/**
 * The graphql-ws payload for an urql subscription. After a reconnect graphql-ws resubscribes
 * by sending the very payload object it was given at first (serialised again), and urql knows
 * nothing of the reconnect: so a subscription that must not start over (taskOutput with
 * `after`) gets a payload whose `variables` are read when sent, merged with its context's
 * `resumeVariables()`. Other subscriptions start over with their snapshot, as before.
 */
export function subscriptionPayload(request: SubscriptionOperation, operation: Operation): SubscribePayload {
  const payload = { ...request, query: request.query ?? '' };
  const resume = (operation.context as ResumableContext).resumeVariables;
  if (!resume) return payload;
  return Object.defineProperty(payload, 'variables', { enumerable: true, get: () => ({ ...request.variables, ...resume() }) });
}

/** What graphql-ws hands a subscription's sink. */
interface SubscriptionSink {
  next(result: { data?: unknown; extensions?: Record<string, unknown> }): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * A sink that turns a feed's "now live" message (`data: null`, `extensions.live`: tasksUpdated
 * and taskDeleted send one first, and again when graphql-ws resubscribed after a reconnect) into
 * one with empty data. urql merges every result of a subscription into the one before, keeping
 * the previous `data` when the new one is null: after a task event, a live message would read as
 * that event again, and a list would never learn that the feed is live again (create-live-tasks.ts).
 */
export function liveAwareSink<S extends SubscriptionSink>(sink: S): S {
  return {
    ...sink,
    next: (result) => sink.next(result.data == null && result.extensions?.live === true ? { ...result, data: {} } : result),
    error: (error) => sink.error(error),
    complete: () => sink.complete(),
  };
}

/**
 * Creates the app's client for the server at `origin` (default: the page's).
 * `webSocketImpl` replaces the browser's WebSocket (tests).
 */
export function createAppClient(origin: string = window.location.origin, options: { webSocketImpl?: unknown } = {}): AppClient {
  const [connection, setConnection] = createSignal<ConnectionState>('connecting');
  let everConnected = false;
  let keyGiven: (() => void) | null = null;
  /** Ends the wait before the next reconnect attempt (the network came back). */
  let wakeRetry: (() => void) | null = null;

  const ws = createWsClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: options.webSocketImpl,
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    connectionParams: () => {
      const header = authorization();
      return header ? { authorization: header } : {};
    },
    // Capped exponential backoff with jitter, so a restarted server is not stampeded; while
    // the server wants a key we have not got, wait for the operator instead.
    retryWait: async (retries) => {
      if (keyRequired()) await new Promise<void>((resolve) => (keyGiven = resolve));
      else {
        await new Promise<void>((resolve) => {
          wakeRetry = resolve;
          setTimeout(resolve, Math.min(1000 * 2 ** retries, 10_000) * (0.5 + Math.random() / 2));
        });
        wakeRetry = null;
      }
    },
    on: {
      connecting: () => setConnection(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        setConnection('connected');
      },
      closed: (event) => {
        if ((event as { code?: number } | undefined)?.code === CLOSE_FORBIDDEN) reportUnauthenticated();
        setConnection(navigator.onLine ? 'reconnecting' : 'offline');
      },
    },
  });

  const client = new Client({
    url: `${origin}/graphql`,
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => {
      const header = authorization();
      return header ? { headers: { authorization: header } } : {};
    },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401) reportUnauthenticated();
      return response;
    },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request, operation) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe(subscriptionPayload(request, operation), liveAwareSink(sink)) }),
        }),
      }),
    ],
  });

  // A new (or forgotten) key: reconnect with it; a socket waiting for one goes on at once.
  const disposeKeyWatch = createRoot((dispose) => {
    createEffect(
      on(
        apiKey,
        () => {
          keyGiven?.();
          keyGiven = null;
          ws.terminate();
        },
        { defer: true },
      ),
    );
    return dispose;
  });

  // Offline: drop the socket now rather than wait for keep-alive to notice, and reconnect as
  // soon as the network is back; subscriptions then resume where they were (afterVersion, after).
  const onOffline = () => {
    setConnection('offline');
    ws.terminate();
  };
  const onOnline = () => wakeRetry?.();
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  return {
    client,
    connection,
    dispose: () => {
      disposeKeyWatch();
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      void ws.dispose();
    },
  };
}
