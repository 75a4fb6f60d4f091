/**
 * One urql Client for the app: queries and mutations over HTTP POST (Apollo's CSRF
 * prevention rejects urql's GET), subscriptions over one graphql-ws connection that
 * reconnects forever and reports its state for the connection badge.
 */
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { createSignal, type Accessor } from 'solid-js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface AppClient {
  client: Client;
  connection: Accessor<ConnectionState>;
  /** Counts (re)connections: resources that are not subscriptions refetch when it changes. */
  connectionEpoch: Accessor<number>;
  dispose(): void;
}

export function createAppClient(origin: string = window.location.origin): AppClient {
  const [connection, setConnection] = createSignal<ConnectionState>('connecting');
  const [connectionEpoch, setConnectionEpoch] = createSignal(0);
  let everConnected = false;

  const ws = createWsClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    // Capped exponential backoff with jitter, so a restarted server is not stampeded.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 10_000) * (0.5 + Math.random() / 2))),
    on: {
      connecting: () => setConnection(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        setConnection('connected');
        setConnectionEpoch((epoch) => epoch + 1);
      },
      closed: () => setConnection(navigator.onLine ? 'reconnecting' : 'offline'),
    },
  });

  const client = new Client({
    url: `${origin}/graphql`,
    preferGetMethod: false,
    requestPolicy: 'network-only',
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });

  const onOffline = () => setConnection('offline');
  window.addEventListener('offline', onOffline);
  return {
    client,
    connection,
    connectionEpoch,
    dispose: () => {
      window.removeEventListener('offline', onOffline);
      void ws.dispose();
    },
  };
}
