/**
 * Subscription execution shared between subscribers. graphql-js executes the selection set
 * once per event per subscriber; a task event fanned out to a thousand watchers of the same
 * operation would run the same resolvers a thousand times over the same object. Here each
 * event object is executed once per distinct operation (document, operation name, variables,
 * and who is asking), and every subscriber of that operation gets the same result.
 *
 * This relies on the event bus handing every watcher the same object for one event (it
 * parses each message once); events that are not shared (a watch filling a gap from the
 * event stream) simply miss the cache. Entries live as long as their event object does.
 */
import { GraphQLError, createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { FEED_LIVE } from '../services/feed-live.ts';

/** What a feed without a snapshot sends first (see feed-live.ts). */
const LIVE_RESULT: ExecutionResult = Object.freeze({ data: null, extensions: { live: true } });

type Result = ExecutionResult | Promise<ExecutionResult>;

export interface SharedSubscribe {
  /**
   * Names the operation of one subscription, by its context object (a fresh one per
   * subscription: parsed documents may be shared between operations); unnamed ones are not shared.
   */
  register(contextValue: object, operationKey: string): void;
  /** A drop-in for graphql's `subscribe`, for graphql-ws's `subscribe` option. */
  subscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
}

export function createSharedSubscribe(): SharedSubscribe {
  const operationKeys = new WeakMap<object, string>();
  const results = new WeakMap<object, Map<string, Result>>();

  function run(args: ExecutionArgs, event: unknown, operationKey: string | undefined): Result {
    if (event === FEED_LIVE) return LIVE_RESULT;
    // No closure per event: tsx's keepNames would name each one (a defineProperty per delivery).
    if (operationKey === undefined || typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byOperation = results.get(event);
    if (!byOperation) results.set(event, (byOperation = new Map()));
    let result = byOperation.get(operationKey);
    if (!result) byOperation.set(operationKey, (result = execute({ ...args, rootValue: event })));
    return result;
  }

  async function subscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    let source: Awaited<ReturnType<typeof createSourceEventStream>>;
    try {
      source = await createSourceEventStream(args);
    } catch (error) {
      // graphql-js rethrows what is not a GraphQLError (a resolver that returned no stream):
      // answer this subscription with the error instead of letting it close the whole socket.
      return { errors: [new GraphQLError('internal error', { originalError: error instanceof Error ? error : new Error(String(error)) })] };
    }
    if (!(Symbol.asyncIterator in source)) return source;
    const operationKey = typeof args.contextValue === 'object' && args.contextValue !== null ? operationKeys.get(args.contextValue) : undefined;
    return new MappedEvents(source[Symbol.asyncIterator](), (event) => run(args, event, operationKey));
  }

  return { register: (contextValue, operationKey) => operationKeys.set(contextValue, operationKey), subscribe };
}

/**
 * The source's events, each executed. A class, not an async generator: `return()` must reach
 * the source at once, even while a `next()` is pending (a generator would wait for it), as
 * graphql-js's own mapping does; and one lives per open subscription, so no closures each.
 */
class MappedEvents implements AsyncGenerator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly execute: (event: unknown) => Result,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult>> {
    const step = await this.source.next();
    if (step.done) return { value: undefined, done: true };
    return { value: await this.execute(step.value), done: false };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncGenerator<ExecutionResult> {
    return this;
  }
}
