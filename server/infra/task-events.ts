/**
 * Live task events from Redis pub/sub (graphql-redis-subscriptions on a dedicated ioredis
 * subscriber connection). Every task event arrives on one channel, and every output chunk on
 * another, that this process subscribes to once (the output channel when the first output
 * watch opens) and keeps: a watch of one task is an entry in a map, not a SUBSCRIBE, so
 * watchers coming and going cost Redis nothing. Each message is parsed at most once, and only
 * while someone listens (an output chunk only when someone watches its task). Pub/sub is
 * at-most-once: callers pair it with the task's streams (see task-watch, output-watch).
 * Every other channel (schema/src/channels.ts) is one `on(channel, listener)` away, decoded.
 */
import { once } from 'node:events';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import { Channels, type Channel, type TaskChannelMessage } from '../../schema/src/channels.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { outputMessageTaskId, type OutputChunk } from '../../schema/src/scripts/output.ts';

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
/** An output chunk (one object per message, shared by every listener) and its size. */
export type OutputListener = (chunk: OutputChunk, bytes: number) => void;
export interface Disposable {
  dispose(): void;
}

export type TaskEventBus = ReturnType<typeof createTaskEventBus>;

function addWatcher<L>(map: Map<string, Set<L>>, taskId: string, listener: L): void {
  const watchers = map.get(taskId);
  if (watchers) watchers.add(listener);
  else map.set(taskId, new Set([listener]));
}

function removeWatcher<L>(map: Map<string, Set<L>>, taskId: string, listener: L): void {
  const watchers = map.get(taskId);
  watchers?.delete(listener);
  if (watchers?.size === 0) map.delete(taskId);
}

const taskIdOf = (message: TaskChannelMessage) => (message.kind === 'change' ? message.task.id : message.id);

export function createTaskEventBus(options: TaskEventBusOptions) {
  const tasksChannel = Channels.tasks.name(options.keys);
  const pubsub = new RedisPubSub({
    publisher: options.publisher,
    subscriber: options.subscriber,
    // Parsed below, only when someone listens: a server nobody watches pays for no JSON.
    deserializer: (buffer) => buffer.toString('utf8'),
  });

  const outputChannel = Channels.output.name(options.keys);
  const byTask = new Map<string, Set<TaskListener>>();
  const anyTask = new Set<TaskListener>();
  const rawTaps = new Set<(json: string) => void>();
  const byOutput = new Map<string, Set<OutputListener>>();

  function route(json: string): void {
    for (const tap of rawTaps) tap(json);
    if (byTask.size === 0 && anyTask.size === 0) return;
    let message: TaskChannelMessage;
    try {
      message = Channels.tasks.decode(json);
    } catch {
      options.onMalformedMessage?.(tasksChannel);
      return;
    }
    const bytes = Buffer.byteLength(json);
    for (const listener of anyTask) listener(message, bytes);
    const watchers = byTask.get(taskIdOf(message));
    if (watchers) for (const listener of watchers) listener(message, bytes);
  }

  function routeOutput(message: string): void {
    const watchers = byOutput.get(outputMessageTaskId(message));
    if (!watchers) return;
    let chunk: OutputChunk;
    try {
      chunk = Channels.output.decode(message);
    } catch {
      options.onMalformedMessage?.(outputChannel);
      return;
    }
    const bytes = Buffer.byteLength(chunk.text);
    for (const listener of watchers) listener(chunk, bytes);
  }

  /** A subscription this process makes once and keeps; resolves once Redis confirmed it. */
  function sharedChannel(channel: string, onMessage: (message: string) => void): () => Promise<number> {
    let subscribed: Promise<number> | null = null;
    return () => {
      if (!subscribed) {
        subscribed = (async () => {
          // ioredis writes a SUBSCRIBE at once while it is connecting (before its ready check),
          // and the ready check's INFO then fails in subscriber mode and drops the connection:
          // subscribe once it is ready (later reconnects re-subscribe after their check).
          if (options.subscriber.status !== 'ready' && options.subscriber.status !== 'end') await subscriberReady();
          return pubsub.subscribe(channel, onMessage);
        })();
        // A failed SUBSCRIBE (Redis down) is tried again by the next watcher.
        subscribed.catch(() => (subscribed = null));
      }
      return subscribed;
    };
  }
  const taskSubscription = sharedChannel(tasksChannel, route);
  const outputSubscription = sharedChannel(outputChannel, routeOutput);

  let readiness: Promise<unknown> | null = null;
  /** One wait for the subscriber's next 'ready' (or error), shared by every watch asking meanwhile. */
  function subscriberReady(): Promise<unknown> {
    readiness ??= once(options.subscriber, 'ready').finally(() => (readiness = null));
    return readiness;
  }

  /** Registers a listener (`add`) once the shared subscription is live, so no later event is missed. */
  async function listen(add: () => void, remove: () => void, subscription = taskSubscription): Promise<Disposable> {
    await subscription();
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

  /** A subscription of its own to `channel`; a message that does not decode is reported, not passed on. */
  async function on<T>(channel: Channel<T>, listener: (payload: T) => void): Promise<Disposable> {
    const name = channel.name(options.keys);
    const subscriptionId = await pubsub.subscribe(name, (message: string) => {
      let payload: T;
      try {
        payload = channel.decode(message);
      } catch {
        options.onMalformedMessage?.(name);
        return;
      }
      listener(payload);
    });
    return { dispose: () => pubsub.unsubscribe(subscriptionId) };
  }

  return {
    /** Every change (and the deletion) of one task. */
    onTask: (taskId: string, listener: TaskListener) =>
      listen(
        () => addWatcher(byTask, taskId, listener),
        () => removeWatcher(byTask, taskId, listener),
      ),
    /** Every output chunk of one task. */
    onOutput: (taskId: string, listener: OutputListener) =>
      listen(
        () => addWatcher(byOutput, taskId, listener),
        () => removeWatcher(byOutput, taskId, listener),
        outputSubscription,
      ),
    /** Every change (and deletion) of any task. */
    onAnyTask: (listener: TaskListener) =>
      listen(
        () => anyTask.add(listener),
        () => anyTask.delete(listener),
      ),
    /**
     * Every task message as it arrived, unparsed: for a listener that looks at few of them and
     * can tell which from the text (the start-rate meter), so an idle server still parses none.
     */
    onAnyTaskRaw: (listener: (json: string) => void) =>
      listen(
        () => rawTaps.add(listener),
        () => rawTaps.delete(listener),
      ),
    /** Every message of another channel (`Channels.provider`, `Channels.workers`, ...), decoded. */
    on,
  };
}
