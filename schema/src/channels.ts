/**
 * Every Redis pub/sub channel and its payload, for publisher and subscriber alike: a channel's
 * name (built in redis-keys.ts) and how a message is read (`decode`, which throws on one that is
 * not its payload), and how TypeScript writes one (`encode`) or, for a channel the task scripts
 * publish on, the Lua local its name is bound to. Pub/sub is at-most-once: each channel is a
 * hint or a fast path beside a record that is the truth. No I/O here.
 *
 * | channel    | published by                          | payload                                  |
 * |------------|---------------------------------------|------------------------------------------|
 * | `tasks`    | every task script (prelude `emit`),   | the task record as JSON, without content |
 * |            | `taskDelete`                          | and lease token; a deletion notice       |
 * | `output`   | `emit_output` (scripts/output.ts)     | `<taskId>\n<cursor>\n<flags>\n<text>`    |
 * | `cancel`   | `taskCancel`, `taskDelete`            | the id of the ACTIVE task to abort       |
 * | `circuit`  | the API (an operator's command)       | the command's action; workers then read  |
 * |            |                                       | `RedisKeys.circuitCommand`               |
 * | `workers`  | each worker, after each heartbeat     | the worker's id                          |
 * | `provider` | the worker that checked the provider  | the provider state it found              |
 * | `modelBreakers` | the model breaker scripts         | `<STATE> <model>`: the breaker's new     |
 * |            | (scripts/model-breakers.ts)           | state; workers then read the hash        |
 *
 * A new channel: its name in redis-keys.ts, its codec here (in `Channels`), its publisher
 * (`publication()` in TypeScript, or `channels: [...]` in a script's declaration, which binds its
 * name with no caller passing it), its subscriber (the API's event bus `on(channel, ...)`, or a
 * worker's `createChannelRouter`), and its line in docs/reliability.md.
 */
import { z } from 'zod';
import { CircuitCommand, CircuitState } from './circuit.ts';
import { ProviderState } from './provider-status.ts';
import type { RedisKeys } from './redis-keys.ts';
import { outputChannel } from './scripts/output.ts';
import { parseTaskHash, type TaskRecord } from './task.ts';

export interface Channel<T> {
  name(keys: RedisKeys): string;
  /** The payload of a message. Throws when the message is not one. */
  decode(message: string): T;
}

/** A channel TypeScript publishes on. */
export interface PublishedChannel<T> extends Channel<T> {
  encode(payload: T): string;
}

/**
 * A channel the task scripts publish on. A script that declares it (`channels`) sees its name
 * as the Lua local `lua`, and writes the payload `decode` reads.
 */
export interface ScriptChannel<T> extends Channel<T> {
  readonly lua: string;
}

/** What a tasks channel message carries: a change (the record without content) or a deletion. */
export type TaskChannelMessage = { kind: 'change'; task: TaskRecord } | { kind: 'deleted'; id: string; tenant: string };

const nonEmpty = z.string().min(1);

/** A payload that is one word: checked by `schema`, written as it is. */
const word = <T extends string>(name: (keys: RedisKeys) => string, schema: z.ZodType<T>): PublishedChannel<T> => ({
  name,
  encode: (payload) => payload,
  decode: (message) => schema.parse(message),
});

/**
 * Every change of any task: the record as the prelude's `emit` publishes it (the hash as a JSON
 * object of strings, without `content` and `leaseToken`); and, from `taskDelete`,
 * `{"id", "tenant", "deleted": "1"}`. Bound as `TASKS_CHANNEL` in every script (scripts/kit/shared.ts).
 */
const tasks: ScriptChannel<TaskChannelMessage> = {
  lua: 'TASKS_CHANNEL',
  name: (keys) => keys.tasksChannel(),
  decode(json) {
    const fields = JSON.parse(json) as Record<string, string>;
    if (fields.deleted === '1') return { kind: 'deleted', id: z.string().parse(fields.id), tenant: z.string().parse(fields.tenant) };
    return { kind: 'change', task: parseTaskHash(fields) };
  },
};

/** The id of an ACTIVE task that was cancelled or deleted: its worker aborts at once. */
const cancel: ScriptChannel<string> = { lua: 'CANCEL_CHANNEL', name: (keys) => keys.cancelChannel(), decode: (message) => nonEmpty.parse(message) };

/** A model's breaker changed: its new state and the model (workers re-read `RedisKeys.modelBreakers`). */
export interface ModelBreakerChange {
  model: string;
  state: CircuitState;
}

/** `<STATE> <model>`, as the model breaker scripts publish it (a state has no space; a model id may follow it whole). */
const modelBreakers: ScriptChannel<ModelBreakerChange> = {
  lua: 'MODEL_BREAKERS_CHANNEL',
  name: (keys) => keys.modelBreakersChannel(),
  decode(message) {
    const space = message.indexOf(' ');
    return { state: z.enum(CircuitState).parse(message.slice(0, space)), model: nonEmpty.parse(message.slice(space + 1)) };
  },
};

/** Every channel, by name. */
export const Channels = {
  tasks,
  /** Every output chunk of any task (defined beside the Lua that writes it). */
  output: outputChannel,
  cancel,
  /** An operator's circuit command was given: its action (workers read the command's hash). */
  circuit: word((keys) => keys.circuitChannel(), z.enum(CircuitCommand)),
  /** A worker beat: its id. */
  workers: word((keys) => keys.workersChannel(), nonEmpty),
  /** The provider was checked: the state found. */
  provider: word((keys) => keys.providerChannel(), z.enum(ProviderState)),
  modelBreakers,
} as const;

/** PUBLISH's arguments for `payload` on `channel`: `redis.publish(...publication(keys, channel, payload))`. */
export function publication<T>(keys: RedisKeys, channel: PublishedChannel<T>, payload: T): [channel: string, message: string] {
  return [channel.name(keys), channel.encode(payload)];
}

/** A handler of one channel's payloads (`routeTo`). */
export interface ChannelRoute {
  readonly channel: Channel<unknown>;
  handle(payload: unknown): void;
}

/** Routes `channel`'s messages, decoded, to `handle`. */
export const routeTo = <T>(channel: Channel<T>, handle: (payload: T) => void): ChannelRoute => ({ channel, handle: handle as (payload: unknown) => void });

/**
 * One subscriber connection's channels: the names to SUBSCRIBE to, and `route` for its
 * 'message' event, which decodes each message and hands it to its channel's handler. A message
 * that does not decode goes to `onMalformed` instead.
 */
export function createChannelRouter(keys: RedisKeys, routes: readonly ChannelRoute[], onMalformed: (channel: string, error: unknown) => void) {
  const byName = new Map(routes.map((route) => [route.channel.name(keys), route]));
  return {
    names: [...byName.keys()],
    route(name: string, message: string): void {
      const route = byName.get(name);
      if (!route) return;
      let payload: unknown;
      try {
        payload = route.channel.decode(message);
      } catch (error) {
        onMalformed(name, error);
        return;
      }
      route.handle(payload);
    },
  };
}
