/**
 * A push-to-pull bridge: callbacks push, one consumer pulls with for-await. `close()`
 * ends a pending pull at once, which a plain async generator cannot do: its `return()`
 * waits for the pending `next()`, so an idle subscription could never be torn down.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(): void;
  readonly closed: boolean;
}

export function createAsyncQueue<T>(): AsyncQueue<T> {
  const items: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  let closed = false;

  const next = (): Promise<IteratorResult<T>> => {
    if (items.length > 0) return Promise.resolve({ value: items.shift()!, done: false });
    if (closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      waiting = resolve;
    });
  };

  return {
    push(item) {
      if (closed) return;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: item, done: false });
      } else {
        items.push(item);
      }
    },
    close() {
      closed = true;
      items.length = 0;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: undefined, done: true });
      }
    },
    get closed() {
      return closed;
    },
    [Symbol.asyncIterator]: () => ({
      next,
      return: async () => {
        closed = true;
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
