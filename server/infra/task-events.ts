/**
 * Live task events from Redis pub/sub (graphql-redis-subscriptions on a dedicated ioredis
 * subscriber connection). Each message is parsed once, whatever the number of listeners.
 * Pub/sub is at-most-once: callers pair it with the task's event stream (see task-service).
 */
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

export type TaskListener = (message: TaskChannelMessage) => void;
export interface Disposable {
  dispose(): void;
}

export type TaskEventBus = ReturnType<typeof createTaskEventBus>;

export function createTaskEventBus(options: TaskEventBusOptions) {
  const pubsub = new RedisPubSub({
    publisher: options.publisher,
    subscriber: options.subscriber,
    deserializer: (buffer, { channel }) => {
      // Only task channels carry task JSON; the hint channels carry a plain word or id.
      if (channel === options.keys.workersChannel() || channel === options.keys.providerChannel()) return buffer.toString('utf8');
      try {
        return parseTaskChannelMessage(buffer.toString('utf8'));
      } catch {
        options.onMalformedMessage?.(channel);
        return null;
      }
    },
  });

  /** Resolves once Redis confirmed the SUBSCRIBE, so no later publish can be missed. */
  async function listen(channel: string, listener: TaskListener): Promise<Disposable> {
    const subscriptionId = await pubsub.subscribe(channel, (message: TaskChannelMessage | null) => {
      if (message) listener(message);
    });
    return { dispose: () => pubsub.unsubscribe(subscriptionId) };
  }

  async function listenRaw(channel: string, listener: (message: string) => void): Promise<Disposable> {
    const subscriptionId = await pubsub.subscribe(channel, listener);
    return { dispose: () => pubsub.unsubscribe(subscriptionId) };
  }

  return {
    /** Every change (and the deletion) of one task. */
    onTask: (taskId: string, listener: TaskListener) => listen(options.keys.taskChannel(taskId), listener),
    /** Every change (and deletion) of any task. */
    onAnyTask: (listener: TaskListener) => listen(options.keys.tasksChannel(), listener),
    /** Each provider check a worker recorded. */
    onProviderCheck: (listener: (state: string) => void) => listenRaw(options.keys.providerChannel(), listener),
    /** Each worker heartbeat (the worker's id). */
    onWorkerBeat: (listener: (workerId: string) => void) => listenRaw(options.keys.workersChannel(), listener),
  };
}
