/**
 * A live view many subscribers share (queue status, workers): one recomputation per burst of
 * change hints, one hint subscription and one resync timer however many watch, each watcher
 * getting a snapshot first and then every value that differs from its last.
 */
import type { Logger } from '../../common/logger.ts';
import type { Disposable } from '../infra/task-events.ts';
import { closableIterator, createAsyncQueue, type AsyncQueue } from './async-queue.ts';

export interface SharedFeedOptions<T> {
  name: string;
  logger: Logger;
  /** Computes the current value (a storage error is logged and the next hint tries again). */
  compute(): Promise<T>;
  /** Subscribes to change hints; resolves once the subscription is live. */
  listen(onHint: () => void): Promise<Disposable>;
  /** At most one recomputation per this interval while hints stream in. */
  coalesceMs: number;
  /** Also recompute this often while anyone watches (a lost hint heals). */
  resyncIntervalMs: number;
}

export function createSharedFeed<T>(options: SharedFeedOptions<T>) {
  const watchers = new Set<AsyncQueue<T>>();
  let feed: { subscription: Promise<Disposable>; resync: NodeJS.Timeout } | null = null;
  let pending: NodeJS.Timeout | null = null;

  function scheduleRefresh(): void {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      options.compute().then(
        (value) => watchers.forEach((watcher) => watcher.push(value)),
        (error: Error) => options.logger.warn({ feed: options.name, err: error.message }, 'feed refresh failed'),
      );
    }, options.coalesceMs);
  }

  function start(): void {
    feed = { subscription: options.listen(scheduleRefresh), resync: setInterval(scheduleRefresh, options.resyncIntervalMs) };
    feed.subscription.catch((error: Error) => options.logger.warn({ feed: options.name, err: error.message }, 'feed subscription failed'));
  }

  function stop(): void {
    if (!feed) return;
    clearInterval(feed.resync);
    feed.subscription.then((subscription) => subscription.dispose(), () => undefined);
    feed = null;
    if (pending) clearTimeout(pending);
    pending = null;
  }

  /** The current value first, then each different one (coalesced). */
  async function watch(): Promise<AsyncGenerator<T>> {
    // A reader that fell behind needs only the newest value: one is held, never more.
    const inbox = createAsyncQueue<T>({ latestOnly: true });
    watchers.add(inbox);
    const close = () => {
      watchers.delete(inbox);
      inbox.close();
      if (watchers.size === 0) stop();
    };
    let first: T;
    try {
      if (!feed) start();
      await feed!.subscription;
      first = await options.compute();
    } catch (error) {
      close();
      throw error;
    }
    async function* run(): AsyncGenerator<T> {
      yield first;
      let last = JSON.stringify(first);
      for await (const next of inbox) {
        const serialized = JSON.stringify(next);
        if (serialized === last) continue;
        last = serialized;
        yield next;
      }
    }
    return closableIterator(run(), close);
  }

  return { watch, dispose: stop };
}
