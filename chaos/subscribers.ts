/**
 * The live graphql-ws connections of a chaos run, shared by the task watches and the output
 * followers as a browser tab shares one socket. Each connection retries for ever: every
 * (re)connect tries the next server, so a dead one fails fast and the other answers.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { sleep } from './random.ts';

export interface SubscriberPoolOptions {
  /** Base URLs of the API servers (http://host:port), alive or not. */
  servers: readonly string[];
  /** How many connections. */
  count: number;
  /** The API key connection `index` presents (none: anonymous). */
  keyOf?(index: number): string | undefined;
  random(): number;
}

export interface SubscriberPool {
  clients: readonly Client[];
  /** Calls `listener` with the connection's index each time one comes back after losing its server. */
  onReconnect(listener: (index: number) => void): void;
  isClosed(): boolean;
  /** Closes every connection; nothing resubscribes after this. */
  close(): Promise<void>;
}

export function createSubscriberPool(options: SubscriberPoolOptions): SubscriberPool {
  const listeners: ((index: number) => void)[] = [];
  let closed = false;
  const clients = Array.from({ length: options.count }, (_, index) => {
    let attempt = index;
    return createClient({
      url: () => options.servers[attempt++ % options.servers.length]!.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: () => {
        const key = options.keyOf?.(index);
        return key ? { authorization: `Bearer ${key}` } : {};
      },
      lazy: false,
      retryAttempts: Infinity,
      retryWait: async () => {
        await sleep(100 + options.random() * 400);
      },
      shouldRetry: () => !closed,
      onNonLazyError: () => undefined,
      on: {
        connected: (_socket, _payload, wasRetry) => {
          if (wasRetry) for (const listener of listeners) listener(index);
        },
      },
    });
  });
  return {
    clients,
    onReconnect: (listener) => listeners.push(listener),
    isClosed: () => closed,
    async close() {
      closed = true;
      await Promise.allSettled(clients.map((client) => client.dispose()));
    },
  };
}
