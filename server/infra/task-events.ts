/**
 * Live task events from Redis pub/sub (graphql-redis-subscriptions on a dedicated ioredis
 * subscriber connection). Every task event arrives on one channel that this process
 * subscribes to once and keeps: a watch of one task is an entry in a map, not a SUBSCRIBE,
 * so watchers coming and going cost Redis nothing. Each message is parsed at most once,
 * and only while someone listens. Pub/sub is at-most-once: callers pair it with the task's
 * event stream (see task-service).
 */
import { once } from 'node:events';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { parseTaskChannelMessage, type TaskChannelMessage } from '../../schema/src/task.ts';

export interface TaskEventBusOptions {
  keys: RedisKeys;
  /** Used only to satisfy RedisPubSub; the Lua scripts publish, not this process. */
  publisher: Redis;
  /** A connection reserved for SUBSCRIBE: never used for commands. */
  subscriber: Redis;
  onMalformedMessage?: (channel: string) => void;
}

/** A task event and the size of its message as it arrived (for subscriber backlogs). */
export type TaskListener = (message: TaskChannelMessage, bytes: number) => void;
export interface Disposable {
  dispose(): void;
}

export type TaskEventBus = ReturnType<typeof createTaskEventBus>;

const taskIdOf = (message: TaskChannelMessage) => (message.kind === 'change' ? message.task.id : message.id);

export function createTaskEventBus(options: TaskEventBusOptions) {
  const tasksChannel = options.keys.tasksChannel();
  const pubsub = new RedisPubSub({
    publisher: options.publisher,
    subscriber: options.subscriber,
    // Parsed below, only when someone listens: a server nobody watches pays for no JSON.
    deserializer: (buffer) => buffer.toString('utf8'),
  });

  const byTask = new Map<string, Set<TaskListener>>();
  const anyTask = new Set<TaskListener>();
  let shared: Promise<number> | null = null;

  function route(json: string): void {
    if (byTask.size === 0 && anyTask.size === 0) return;
    let message: TaskChannelMessage;
    try {
      message = parseTaskChannelMessage(json);
    } catch {
      options.onMalformedMessage?.(tasksChannel);
      return;
    }
    const bytes = Buffer.byteLength(json);
    for (const listener of anyTask) listener(message, bytes);
    const watchers = byTask.get(taskIdOf(message));
    if (watchers) for (const listener of watchers) listener(message, bytes);
  }

  /** The one subscription to every task's events; resolves once Redis confirmed it. */
  function sharedSubscription(): Promise<number> {
    if (!shared) {
      shared = pubsub.subscribe(tasksChannel, route);
      // A failed SUBSCRIBE (Redis down) is tried again by the next watcher.
      shared.catch(() => (shared = null));
    }
    return shared;
  }

  let readiness: Promise<unknown> | null = null;
  /** One wait for the subscriber's next 'ready' (or error), shared by every watch asking meanwhile. */
  function subscriberReady(): Promise<unknown> {
    readiness ??= once(options.subscriber, 'ready').finally(() => (readiness = null));
    return readiness;
  }

  /** Registers a listener (`add`) once the shared subscription is live, so no later event is missed. */
  async function listen(add: () => void, remove: () => void): Promise<Disposable> {
    await sharedSubscription();
    // While the subscriber reconnects, events published now would be missed: wait until
    // ioredis is ready (it re-sends its SUBSCRIBEs in the same tick). A connection error
    // rejects, and the caller answers UNAVAILABLE.
    if (options.subscriber.status === 'end') throw new Error('the subscriber connection is closed');
    if (options.subscriber.status !== 'ready') await subscriberReady();
    add();
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        remove();
      },
    };
  }

  async function listenRaw(channel: string, listener: (message: string) => void): Promise<Disposable> {
    const subscriptionId = await pubsub.subscribe(channel, listener);
    return { dispose: () => pubsub.unsubscribe(subscriptionId) };
  }

  return {
    /** Every change (and the deletion) of one task. */
    onTask: (taskId: string, listener: TaskListener) =>
      listen(
        () => {
          const watchers = byTask.get(taskId);
          if (watchers) watchers.add(listener);
          else byTask.set(taskId, new Set([listener]));
        },
        () => {
          const watchers = byTask.get(taskId);
          watchers?.delete(listener);
          if (watchers?.size === 0) byTask.delete(taskId);
        },
      ),
    /** Every change (and deletion) of any task. */
    onAnyTask: (listener: TaskListener) =>
      listen(
        () => anyTask.add(listener),
        () => anyTask.delete(listener),
      ),
    /** Each provider check a worker recorded. */
    onProviderCheck: (listener: (state: string) => void) => listenRaw(options.keys.providerChannel(), listener),
    /** Each worker heartbeat (the worker's id). */
    onWorkerBeat: (listener: (workerId: string) => void) => listenRaw(options.keys.workersChannel(), listener),
  };
}
