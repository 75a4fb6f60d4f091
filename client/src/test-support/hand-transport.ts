/**
 * An urql Client whose every operation (queries included) lands in a list the test answers
 * by hand: `push` a result into a subscription, `answer` a query, `complete` a subscription.
 * No network, no server. Operations get the payload the app's graphql-ws client would get, so
 * `resentVariables()` tells what a resubscription after a reconnect would ask for.
 */
import { Client, subscriptionExchange } from '@urql/core';
import { vi } from 'vitest';
import { liveAwareSink, subscriptionPayload } from '../urql-client.ts';

interface Sink {
  next(value: { data?: unknown; errors?: unknown[]; extensions?: Record<string, unknown> }): void;
  error(error: unknown): void;
  complete(): void;
}

export interface HandOperation {
  name: string;
  /** The variables the operation was first sent with. */
  variables: Record<string, unknown>;
  /** The variables graphql-ws would send if it resubscribed now, after a reconnect. */
  resentVariables(): Record<string, unknown>;
  sink: Sink;
  closed: boolean;
}

export function createHandTransport() {
  const operations: HandOperation[] = [];
  const client = new Client({
    url: 'http://test.invalid/graphql',
    exchanges: [
      subscriptionExchange({
        enableAllOperations: true,
        forwardSubscription: (request, urqlOperation) => ({
          subscribe: (sink) => {
            const payload = subscriptionPayload(request, urqlOperation);
            const operation: HandOperation = {
              name: request.operationName ?? '',
              variables: (request.variables ?? {}) as Record<string, unknown>,
              resentVariables: () => (JSON.parse(JSON.stringify(payload)) as { variables?: Record<string, unknown> }).variables ?? {},
              // As the app's client does: a live message survives urql's merge of results.
              sink: liveAwareSink(sink as Sink),
              closed: false,
            };
            operations.push(operation);
            return { unsubscribe: () => (operation.closed = true) };
          },
        }),
      }),
    ],
  });
  /** The latest open operation with this name. */
  const open = (name: string): HandOperation => {
    const found = operations.filter((operation) => operation.name === name && !operation.closed).at(-1);
    if (!found) throw new Error(`no open ${name} operation (have: ${operations.map((o) => o.name).join(', ')})`);
    return found;
  };
  return {
    client,
    operations,
    open,
    /** Sends one subscription event. */
    push: (name: string, data: unknown) => open(name).sink.next({ data }),
    /** Sends a feed's "now live" message (what tasksUpdated and taskDeleted send first). */
    live: (name: string) => open(name).sink.next({ data: null, extensions: { live: true } }),
    /** Ends a subscription from the server's side. */
    complete: (name: string) => {
      const operation = open(name);
      operation.closed = true;
      operation.sink.complete();
    },
    /** Answers a query and completes it (once the client has sent it: urql starts operations in a microtask). */
    answer: async (name: string, data: unknown) => {
      const operation = await vi.waitFor(() => open(name));
      operation.closed = true;
      operation.sink.next({ data });
      operation.sink.complete();
    },
    /** Answers a query or mutation with GraphQL errors (`{ message, extensions }`) and completes it. */
    fail: async (name: string, errors: { message: string; extensions?: Record<string, unknown> }[]) => {
      const operation = await vi.waitFor(() => open(name));
      operation.closed = true;
      operation.sink.next({ data: null, errors });
      operation.sink.complete();
    },
    /** How many operations with this name were sent so far (open or not). */
    sent: (name: string) => operations.filter((operation) => operation.name === name).length,
    /** Resolves once an operation with this name is open. */
    opened: (name: string) => vi.waitFor(() => open(name)),
  };
}

/** A frame scheduler the test runs by hand. */
export function createManualFrames() {
  let queued: (() => void)[] = [];
  return {
    schedule: (run: () => void) => {
      queued.push(run);
      return () => {
        queued = queued.filter((r) => r !== run);
      };
    },
    pending: () => queued.length,
    /** Runs every callback queued for the next frame. */
    frame: () => {
      const runs = queued;
      queued = [];
      runs.forEach((run) => run());
    },
  };
}
