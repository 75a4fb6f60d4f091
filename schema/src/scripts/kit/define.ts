/**
 * `defineTaskScript`, the kit every task script is made with: a script's keys, arguments and
 * channels declared by name, its Lua, its reply decoder. Its siblings: shared.ts (the keys and
 * arguments every script shares), templates.ts (key families a script fills in itself),
 * helper-pruning.ts (a script carries only the Lua helpers it calls) and call.ts
 * (`taskScriptCall`: one call's KEYS and ARGV). No script lives here; see ../index.ts for the
 * families.
 *
 * Every key a script touches is built in redis-keys.ts and arrives through KEYS: the scripts
 * build no key names themselves (which also keeps them open to Redis Cluster). The Lua sees
 * each declared key and argument as a named local (`TASK_KEY`, `INDEX[state]`, `LEASE_TOKEN`,
 * ...) generated from the same declaration the callers use, so positions cannot drift apart.
 * Every script shares:
 *   keys: the task hash, its event stream, its output stream, the all-tasks index and its tenant
 *         slice, each state index and its tenant slice, the dead-letter index of each error
 *         class, the finished index, the stats hash and the flow counter of the caller's minute;
 *   args: the stream cap, the all-tasks channel, the actor (worker id or '') and the tenant.
 * A script that knows the states its transitions move between declares them (`states`, and
 * `dlqClasses` for the dead-letter classes it files under) and takes only their indexes (the
 * all-tasks ones only when its body names them, the finished index only with COMPLETED or
 * CANCELLED): a completion's shared keys are 10 rather than 32. The others are nil in its Lua, and
 * commit() refuses a move between states it was not given, before writing.
 * A script that moves no index (the output append) takes only the record's shared keys (the
 * task hash, its output, the stats hash); the other shared names are nil in it. A script about
 * a tenant rather than a task (the budget holds) takes none.
 * The channels a script publishes on beyond the all-tasks one (schema/src/channels.ts) come
 * after its arguments in ARGV, filled by `taskScriptCall`: callers never pass a channel name.
 *
 * A script that learns inside which task or tenant it works on (the dispatcher picks the task a
 * slot runs) cannot have that task's keys passed in. It declares key templates instead
 * (`templates`): redis-keys.ts builds each with NUL where the task id or tenant goes (and
 * SOH where a base key goes, for a tenant slice), `taskScriptCall` passes them last in ARGV,
 * and the Lua fills them with `key_of` alone. So every key name still comes from redis-keys.ts.
 */
import type { ScriptChannel } from '../../channels.ts';
import type { ErrorClass, TaskState } from '../../task.ts';
import { PRELUDE } from '../prelude.ts';
import { withoutUncalledHelpers } from './helper-pruning.ts';
import { SHARED_ARGS, SHARED_KEYS, sharedSlotsFor, type KeySlot } from './shared.ts';
import type { KeyTemplate } from './templates.ts';

/**
 * Lua helper functions (`local function ...`) of one family, included after the prelude by the
 * scripts that name the fragment in `uses`: a script carries only the helpers it calls.
 */
export interface LuaFragment {
  readonly lua: string;
}

/** `leaseToken` -> `LEASE_TOKEN`: how a declared name reads in Lua. */
const luaName = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();

/** Binds every declared key, argument and channel to its Lua name; shared keys not in `shared` are nil. */
function luaBindings(
  shared: readonly KeySlot[],
  keys: readonly string[],
  args: readonly string[],
  channels: readonly ScriptChannel<unknown>[],
  templates: readonly KeyTemplate[],
): string {
  const names = [
    ...SHARED_KEYS.map((slot) => slot.lua),
    ...keys.map((name) => `${luaName(name)}_KEY`),
    ...SHARED_ARGS,
    ...args.map(luaName),
    ...channels.map((channel) => channel.lua),
    ...templates.map((template) => template.lua),
  ];
  const taken = new Set<string>();
  for (const name of names) {
    if (taken.has(name)) throw new Error(`task script binds ${name} twice`);
    taken.add(name);
  }
  const lines = ['local INDEX, TENANT_INDEX, DLQ_INDEX = {}, {}, {}'];
  for (const slot of SHARED_KEYS) if (!slot.lua.includes('.') && !shared.includes(slot)) lines.push(`local ${slot.lua} = nil`);
  shared.forEach((slot, i) => lines.push(`${slot.lua.includes('.') ? '' : 'local '}${slot.lua} = KEYS[${i + 1}]`));
  keys.forEach((name, i) => lines.push(`local ${luaName(name)}_KEY = KEYS[${shared.length + i + 1}]`));
  SHARED_ARGS.forEach((name, i) => lines.push(`local ${name} = ARGV[${i + 1}]`));
  args.forEach((name, i) => lines.push(`local ${luaName(name)} = ARGV[${SHARED_ARGS.length + i + 1}]`));
  channels.forEach((channel, i) => lines.push(`local ${channel.lua} = ARGV[${SHARED_ARGS.length + args.length + i + 1}]`));
  const templatesFrom = SHARED_ARGS.length + args.length + channels.length;
  templates.forEach((template, i) => lines.push(`local ${template.lua} = ARGV[${templatesFrom + i + 1}]`));
  return lines.join('\n');
}

/** A task script: its declared keys and arguments (after the shared ones), its Lua, and its reply. */
export interface TaskScript<Key extends string, OptionalKey extends string, Arg extends string, Reply> {
  /** The shared keys it takes (all of them, or just the record's for a script that moves no index). */
  readonly shared: readonly KeySlot[];
  readonly keys: readonly Key[];
  /** Keys after `keys` that a call may leave out (then the Lua sees nil); all-or-none, in order. */
  readonly optionalKeys: readonly OptionalKey[];
  readonly args: readonly Arg[];
  /** The channels it publishes on besides the tasks channel; their names follow `args` in ARGV. */
  readonly channels: readonly ScriptChannel<unknown>[];
  /** The key families it fills in itself; they follow the channels in ARGV. */
  readonly templates: readonly KeyTemplate[];
  /** The whole source: bindings, prelude, fragments and body. */
  readonly lua: string;
  decode(reply: unknown): Reply;
}

/** Declares a task script; its Lua is its bindings, the prelude, the fragments it uses and its body. */
export function defineTaskScript<const Key extends string, const OptionalKey extends string, const Arg extends string, Reply>(spec: {
  /**
   * 'record': only the task hash, its output and the stats hash (a script that moves no index);
   * 'none': no shared key (a script about a tenant, not a task);
   * 'picked': all but the named task's events, output and tenant slices (a script that moves
   * the task it picks, whose keys it fills from TASK_TEMPLATES).
   */
  shared?: 'all' | 'record' | 'none' | 'picked';
  /**
   * With 'all' or 'picked': the states its transitions leave or enter, when the script knows them. Only
   * their indexes are passed (the finished index only with COMPLETED or CANCELLED among them,
   * the dead-letter class indexes only with DLQ), and the all-tasks indexes only when the body
   * names them: a call sends the keys it may touch, not every index (commit() refuses, before
   * writing, a move between states whose indexes it was not given).
   */
  states?: readonly TaskState[];
  /** With DLQ among `states`: the classes it files tasks under (default: every class). */
  dlqClasses?: readonly ErrorClass[];
  keys: readonly Key[];
  optionalKeys?: readonly OptionalKey[];
  args: readonly Arg[];
  channels?: readonly ScriptChannel<unknown>[];
  templates?: readonly KeyTemplate[];
  uses?: readonly LuaFragment[];
  body: string;
  decode(reply: unknown): Reply;
}): TaskScript<Key, OptionalKey, Arg, Reply> {
  const optionalKeys = spec.optionalKeys ?? [];
  const channels = spec.channels ?? [];
  const templates = spec.templates ?? [];
  const shared = sharedSlotsFor(spec);
  const helpers = withoutUncalledHelpers(`${PRELUDE}${(spec.uses ?? []).map((fragment) => fragment.lua).join('')}`, spec.body);
  return {
    shared,
    keys: spec.keys,
    optionalKeys,
    args: spec.args,
    channels,
    templates,
    lua: `${luaBindings(shared, [...spec.keys, ...optionalKeys], spec.args, channels, templates)}\n${helpers}\n${spec.body}`,
    decode: spec.decode,
  };
}

export type AnyTaskScript = TaskScript<string, string, string, unknown>;

/** What a call passes: the script's own keys and arguments, by name. */
export type ScriptKeys<S> = S extends TaskScript<infer K, infer O, string, unknown> ? Record<K, string> & Partial<Record<O, string>> : never;
export type ScriptArgs<S> = S extends TaskScript<string, string, infer A, unknown> ? Record<A, string | number> : never;
export type ScriptReply<S> = S extends TaskScript<string, string, string, infer R> ? R : never;

/** A script's reply as strings: its status first. Throws on anything else. */
export function replyList(reply: unknown): [string, ...string[]] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected task script reply');
  return reply.map(String) as [string, ...string[]];
}
