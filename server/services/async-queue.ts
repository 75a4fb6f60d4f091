/**
 * A push-to-pull bridge: callbacks push, one consumer pulls with for-await. `close()`
 * ends a pending pull at once, which a plain async generator cannot do: its `return()`
 * waits for the pending `next()`, so an idle subscription could never be torn down.
 *
 * Bounded two ways. With a `backlog`, every queued item counts against it (by `sizeOf`, in
 * bytes); when the backlog overflows the queue drops what it holds and its consumer's next
 * pull throws SubscriberTooSlowError. With `latestOnly`, it holds one item, the newest: for
 * feeds of a current state, where a reader that fell behind needs only the last value.
 */
import type { Backlog } from './backlog.ts';

export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T, bytes?: number): void;
  close(): void;
  readonly closed: boolean;
}

export interface AsyncQueueOptions {
  backlog?: Backlog;
  latestOnly?: boolean;
}

/** The consumer fell further behind than its backlog allows; it should resume from where it was. */
export class SubscriberTooSlowError extends Error {
  override name = 'SubscriberTooSlowError';
  constructor() {
    super('the subscriber fell too far behind; subscribe again (taskUpdated: with afterVersion)');
  }
}

export function createAsyncQueue<T>(options: AsyncQueueOptions = {}): AsyncQueue<T> {
  const { backlog, latestOnly = false } = options;
  const items: { item: T; bytes: number }[] = [];
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void } | null = null;
  let closed = false;
  let failure: Error | null = null;
  let stopWatching = () => {};

  const drop = () => {
    for (const queued of items) backlog?.remove(queued.bytes);
    items.length = 0;
  };
  const end = (error: Error | null) => {
    if (closed) return;
    closed = true;
    failure = error;
    stopWatching();
    drop();
    if (!waiting) return;
    const pending = waiting;
    waiting = null;
    if (error) pending.reject(error);
    else pending.resolve({ value: undefined, done: true });
  };
  if (backlog) stopWatching = backlog.onOverflow(() => end(new SubscriberTooSlowError()));

  const next = (): Promise<IteratorResult<T>> => {
    const queued = items.shift();
    if (queued) {
      backlog?.remove(queued.bytes);
      return Promise.resolve({ value: queued.item, done: false });
    }
    if (failure) return Promise.reject(failure);
    if (closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      waiting = { resolve, reject };
    });
  };

  return {
    push(item, bytes = 0) {
      if (closed) return;
      if (waiting) {
        const pending = waiting;
        waiting = null;
        pending.resolve({ value: item, done: false });
        return;
      }
      if (latestOnly) drop();
      items.push({ item, bytes });
      // May overflow, which ends this queue (and every other one on the same backlog).
      backlog?.add(bytes);
    },
    close: () => end(null),
    get closed() {
      return closed;
    },
    [Symbol.asyncIterator]: () => ({
      next,
      return: async () => {
        end(null);
        return { value: undefined, done: true };
      },
    }),
  };
}

/**
 * Wraps a generator so that `onClose` runs exactly once, whether it ends by itself, throws,
 * or is stopped from outside (a client unsubscribing), even before its first `next()`:
 * a generator that never started does not run its `finally` on `return()`.
 * `onClose` should close the queue the generator waits on, so a pending pull ends too.
 */
export function closableIterator<T>(generator: AsyncGenerator<T>, onClose: () => void): AsyncGenerator<T> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
  };
  const wrapper: AsyncGenerator<T> = {
    next: async (...args) => {
      try {
        const result = await generator.next(...args);
        if (result.done) close();
        return result;
      } catch (error) {
        close();
        throw error;
      }
    },
    return: async (value) => {
      close();
      return generator.return(value as T);
    },
    throw: async (error) => {
      close();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => wrapper,
  };
  return wrapper;
}
