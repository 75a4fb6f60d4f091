/**
 * A push-to-pull bridge: callbacks push, one consumer pulls with for-await. `close()`
 * ends a pending pull at once, which a plain async generator cannot do: its `return()`
 * waits for the pending `next()`, so an idle subscription could never be torn down.
 *
 * Bounded two ways. With a `backlog`, every queued item counts against it (by `bytes`); when
 * the backlog overflows the queue drops what it holds and its consumer's next pull throws
 * SubscriberTooSlowError. With `latestOnly`, it holds one item, the newest: for feeds of a
 * current state, where a reader that fell behind needs only the last value.
 *
 * Classes, not closures: one of each lives per open subscription, and methods on a prototype
 * cost nothing per instance.
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

interface Waiting<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: Error): void;
}

class BoundedQueue<T> implements AsyncQueue<T>, AsyncIterator<T> {
  private readonly items: T[] = [];
  private readonly sizes: number[] = [];
  private waiting: Waiting<T> | null = null;
  private ended = false;
  private failure: Error | null = null;
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly backlog: Backlog | undefined,
    private readonly latestOnly: boolean,
  ) {
    if (backlog) this.stopWatching = backlog.onOverflow(() => this.end(new SubscriberTooSlowError()));
  }

  get closed(): boolean {
    return this.ended;
  }

  push(item: T, bytes = 0): void {
    if (this.ended) return;
    if (this.waiting) {
      const pending = this.waiting;
      this.waiting = null;
      pending.resolve({ value: item, done: false });
      return;
    }
    if (this.latestOnly) this.drop();
    this.items.push(item);
    this.sizes.push(bytes);
    // May overflow, which ends this queue (and every other one on the same backlog).
    this.backlog?.add(bytes);
  }

  close(): void {
    this.end(null);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      this.backlog?.remove(this.sizes.shift()!);
      return Promise.resolve({ value: item, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.end(null);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  private drop(): void {
    if (this.backlog) for (const bytes of this.sizes) this.backlog.remove(bytes);
    this.items.length = 0;
    this.sizes.length = 0;
  }

  private end(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.stopWatching?.();
    this.stopWatching = null;
    this.drop();
    const pending = this.waiting;
    this.waiting = null;
    if (!pending) return;
    if (error) pending.reject(error);
    else pending.resolve({ value: undefined, done: true });
  }
}

export function createAsyncQueue<T>(options: AsyncQueueOptions = {}): AsyncQueue<T> {
  return new BoundedQueue<T>(options.backlog, options.latestOnly ?? false);
}

class ClosableIterator<T> implements AsyncGenerator<T> {
  private closed = false;

  constructor(
    private readonly generator: AsyncGenerator<T>,
    private readonly onClose: () => void,
  ) {}

  async next(...args: [] | [unknown]): Promise<IteratorResult<T>> {
    try {
      const result = await this.generator.next(...args);
      if (result.done) this.close();
      return result;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  async return(value?: T | PromiseLike<T>): Promise<IteratorResult<T>> {
    this.close();
    return this.generator.return(value as T);
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
    this.close();
    return this.generator.throw(error);
  }

  [Symbol.asyncIterator](): AsyncGenerator<T> {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/**
 * Wraps a generator so that `onClose` runs exactly once, whether it ends by itself, throws,
 * or is stopped from outside (a client unsubscribing), even before its first `next()`:
 * a generator that never started does not run its `finally` on `return()`.
 * `onClose` should close the queue the generator waits on, so a pending pull ends too.
 */
export function closableIterator<T>(generator: AsyncGenerator<T>, onClose: () => void): AsyncGenerator<T> {
  return new ClosableIterator(generator, onClose);
}
