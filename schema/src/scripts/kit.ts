/**
 * The kit every task script is made with: `defineTaskScript` (a script's keys, arguments and
 * channels declared by name, its Lua, its reply decoder) and `taskScriptCall` (one call's KEYS
 * and ARGV, in the order the script's bindings expect). No script lives here; see index.ts for
 * the families.
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
import type { ScriptChannel } from '../channels.ts';
import type { RedisKeys } from '../redis-keys.ts';
import { ERROR_CLASSES, TASK_STATES, type ErrorClass, type TaskState } from '../task.ts';
import { PRELUDE } from './prelude.ts';

/** What the shared keys of one call are built from. */
export interface TaskScope {
  taskId: string;
  /** The task's tenant ('' when the caller does not know it: the script answers WRONGTENANT). */
  tenant: string;
  /** Any instant of the minute whose flow counter this call's transition is counted in. */
  at: number;
}

/** The shared arguments of one call. */
export interface TaskScriptCommon {
  maxEvents: number;
  actor: string;
}

interface KeySlot {
  /** The Lua lvalue the key is bound to. */
  lua: string;
  build(keys: RedisKeys, scope: TaskScope): string;
  /** The same key whatever the call (no task, tenant or minute in it): built once per RedisKeys. */
  fixed?: true;
}

/**
 * Lua helper functions (`local function ...`) of one family, included after the prelude by the
 * scripts that name the fragment in `uses`: a script carries only the helpers it calls.
 */
export interface LuaFragment {
  readonly lua: string;
}

const minuteOf = (at: number) => at - (at % 60_000);

/**
 * A key family a script fills in itself: `build` gives the family's name with NUL (`\u0000`)
 * where the id or tenant goes, and SOH (`\u0001`) where a base key goes (tenant slices). The
 * Lua sees it as the local `lua` and builds keys only with `key_of(template, value, base)`,
 * which fills one NUL and at most one SOH before it (the contract test checks every template).
 */
export interface KeyTemplate {
  readonly lua: string;
  build(keys: RedisKeys): string;
}

/** Where a template's value (NUL) and base key (SOH) go. */
export const TEMPLATE_VALUE = '\u0000';
export const TEMPLATE_BASE = '\u0001';

/** The key a template gives for `value` (and `base`): what `key_of` does in Lua, for tests and readers. */
export function keyOf(template: string, value: string, base = ''): string {
  return template.split(TEMPLATE_VALUE).join(value).split(TEMPLATE_BASE).join(base);
}

/** The templates of the task keys a script may move to (the dispatcher points the shared task names at the task it picks). */
export const TASK_TEMPLATES: readonly KeyTemplate[] = [
  { lua: 'TASK_TEMPLATE', build: (keys) => keys.task(TEMPLATE_VALUE) },
  { lua: 'EVENTS_TEMPLATE', build: (keys) => keys.taskEvents(TEMPLATE_VALUE) },
  { lua: 'OUTPUT_TEMPLATE', build: (keys) => keys.taskOutput(TEMPLATE_VALUE) },
  { lua: 'SLICE_TEMPLATE', build: (keys) => keys.tenantSlice(TEMPLATE_BASE, TEMPLATE_VALUE) },
];

/** The keys every task script starts with, in KEYS order. */
const SHARED_KEYS: readonly KeySlot[] = [
  { lua: 'TASK_KEY', build: (keys, scope) => keys.task(scope.taskId) },
  { lua: 'EVENTS_KEY', build: (keys, scope) => keys.taskEvents(scope.taskId) },
  { lua: 'OUTPUT_KEY', build: (keys, scope) => keys.taskOutput(scope.taskId) },
  { lua: 'ALL_KEY', build: (keys) => keys.tasksAll(), fixed: true },
  { lua: 'TENANT_ALL_KEY', build: (keys, scope) => keys.tenantSlice(keys.tasksAll(), scope.tenant) },
  ...TASK_STATES.map((state): KeySlot => ({ lua: `INDEX.${state}`, build: (keys) => keys.tasksInState(state), fixed: true })),
  ...TASK_STATES.map((state): KeySlot => ({ lua: `TENANT_INDEX.${state}`, build: (keys, scope) => keys.tenantSlice(keys.tasksInState(state), scope.tenant) })),
  ...ERROR_CLASSES.map((errorClass): KeySlot => ({ lua: `DLQ_INDEX.${errorClass}`, build: (keys) => keys.deadLetterByClass(errorClass), fixed: true })),
  { lua: 'FINISHED_KEY', build: (keys) => keys.tasksFinished(), fixed: true },
  { lua: 'STATS_KEY', build: (keys) => keys.taskStats(), fixed: true },
  { lua: 'FLOW_KEY', build: (keys, scope) => keys.taskFlowBucket(minuteOf(scope.at)) },
];

/**
 * The shared keys a script that changes no state or index needs (the output append, the most
 * frequent call): the record, its output and the stats hash. The other shared names are bound
 * to nil in such a script.
 */
const RECORD_KEYS: ReadonlySet<string> = new Set(['TASK_KEY', 'OUTPUT_KEY', 'STATS_KEY']);

/**
 * The shared keys of the named task that a script which picks its task inside (the dispatcher)
 * never touches: it reads the named task's hash only, and fills these for the task it picks
 * from TASK_TEMPLATES. Left out of its KEYS (nil, or absent from TENANT_INDEX, in the Lua).
 */
const PICKED_OMITS = (slot: KeySlot) => slot.lua === 'EVENTS_KEY' || slot.lua === 'OUTPUT_KEY' || slot.lua === 'TENANT_ALL_KEY' || slot.lua.startsWith('TENANT_INDEX.');

/**
 * The arguments every task script starts with, in ARGV order. `TASKS_CHANNEL` is the tasks
 * channel of channels.ts (`Channels.tasks`; not imported here, which would make a cycle through
 * output.ts), shared by every script: `emit` publishes on it.
 */
const SHARED_ARGS = ['MAX_EVENTS', 'TASKS_CHANNEL', 'ACTOR', 'TENANT'] as const;

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
  const shared =
    spec.shared === 'record'
      ? SHARED_KEYS.filter((slot) => RECORD_KEYS.has(slot.lua))
      : spec.shared === 'none'
        ? []
        : SHARED_KEYS.filter((slot) => (spec.shared !== 'picked' || !PICKED_OMITS(slot)) && (!spec.states || touches(slot, spec.states, spec.dlqClasses, spec.body)));
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

/**
 * The prelude and fragments less the helpers (`local function`s at column 0) that neither the
 * body nor a helper it keeps calls: every call of a script makes a closure of each helper it
 * defines, and each local a closure captures costs a walk of the captured locals so far, so a
 * submit defined commit() and read_task() for nothing. Only code lines are searched for a
 * helper's name (full-line comments are not), and any mention keeps it.
 */
function withoutUncalledHelpers(helpers: string, body: string): string {
  const lines = helpers.split('\n');
  const definitions: { name: string; from: number; to: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const name = /^local function (\w+)\(/.exec(lines[i]!)?.[1];
    if (!name) continue;
    // A one-line helper ends on its own line; any other at the first `end` at column 0.
    let to = i;
    if (!/ end$/.test(lines[i]!)) while (lines[to] !== 'end') if (++to >= lines.length) throw new Error(`helper ${name} has no end at column 0`);
    definitions.push({ name, from: i, to });
    i = to;
  }
  const dropped = new Set<(typeof definitions)[number]>();
  const within = (i: number, d: (typeof definitions)[number]) => i >= d.from && i <= d.to;
  const isCode = (line: string) => !/^\s*--/.test(line);
  const bodyCode = body.split('\n').filter(isCode).join('\n');
  for (let changed = true; changed; ) {
    changed = false;
    for (const definition of definitions) {
      if (dropped.has(definition)) continue;
      const mention = new RegExp(`\\b${definition.name}\\b`);
      const called =
        mention.test(bodyCode) ||
        lines.some((line, i) => isCode(line) && mention.test(line) && !within(i, definition) && ![...dropped].some((d) => within(i, d)));
      if (!called) {
        dropped.add(definition);
        changed = true;
      }
    }
  }
  return lines.filter((_, i) => ![...dropped].some((d) => within(i, d))).join('\n');
}

/** Whether a script whose transitions stay within `states` (and whose body is `body`) may touch a shared slot. */
function touches(slot: KeySlot, states: readonly TaskState[], dlqClasses: readonly ErrorClass[] | undefined, body: string): boolean {
  const [family, member] = slot.lua.split('.');
  if (family === 'INDEX' || family === 'TENANT_INDEX') return states.includes(member as TaskState);
  if (family === 'DLQ_INDEX') return states.includes('DLQ') && (!dlqClasses || dlqClasses.includes(member as ErrorClass));
  if (slot.lua === 'FINISHED_KEY') return states.includes('COMPLETED') || states.includes('CANCELLED') || body.includes('FINISHED_KEY');
  if (slot.lua === 'ALL_KEY' || slot.lua === 'TENANT_ALL_KEY') return new RegExp(`\\b${slot.lua}\\b`).test(body);
  return true;
}

export type AnyTaskScript = TaskScript<string, string, string, unknown>;

/** What a call passes: the script's own keys and arguments, by name. */
export type ScriptKeys<S> = S extends TaskScript<infer K, infer O, string, unknown> ? Record<K, string> & Partial<Record<O, string>> : never;
export type ScriptArgs<S> = S extends TaskScript<string, string, infer A, unknown> ? Record<A, string | number> : never;
export type ScriptReply<S> = S extends TaskScript<string, string, string, infer R> ? R : never;

/**
 * KEYS and ARGV of one call, in the order the script's bindings expect. Throws when a call
 * names a key or argument the script does not declare, or leaves out one it needs.
 */
export function taskScriptCall<S extends AnyTaskScript>(
  script: S,
  redisKeys: RedisKeys,
  scope: TaskScope,
  common: TaskScriptCommon,
  keys: ScriptKeys<S>,
  args: ScriptArgs<S>,
): { keys: string[]; args: (string | number)[] } {
  const given = keys as Record<string, string | undefined>;
  const values = args as Record<string, string | number | undefined>;
  const { keyNames, argNames } = declaredNames(script);
  for (const name in given) if (!keyNames.has(name)) throw new Error(`undeclared key ${name}`);
  for (const name in values) if (!argNames.has(name)) throw new Error(`undeclared argument ${name}`);
  const fixed = fixedParts(script, redisKeys);
  const callKeys = script.shared.map((slot, i) => fixed.shared[i] ?? slot.build(redisKeys, scope));
  for (const name of script.keys) {
    const key = given[name];
    if (key === undefined) throw new Error(`missing key ${name}`);
    callKeys.push(key);
  }
  const present = script.optionalKeys.filter((name) => given[name] !== undefined);
  if (present.length > 0 && present.length !== script.optionalKeys.length) throw new Error('optional keys are all or none');
  for (const name of present) callKeys.push(given[name]!);
  const callArgs: (string | number)[] = [common.maxEvents, fixed.tasksChannel, common.actor, scope.tenant];
  for (const name of script.args) {
    const value = values[name];
    if (value === undefined) throw new Error(`missing argument ${name}`);
    callArgs.push(value);
  }
  for (const value of fixed.tail) callArgs.push(value);
  return { keys: callKeys, args: callArgs };
}

const DECLARED = new WeakMap<AnyTaskScript, { keyNames: ReadonlySet<string>; argNames: ReadonlySet<string> }>();

/** A script's declared key and argument names, as sets made once (every call checks against them). */
function declaredNames(script: AnyTaskScript): { keyNames: ReadonlySet<string>; argNames: ReadonlySet<string> } {
  let names = DECLARED.get(script);
  if (!names) DECLARED.set(script, (names = { keyNames: new Set([...script.keys, ...script.optionalKeys]), argNames: new Set(script.args) }));
  return names;
}

/** What every call of a script passes alike, for one RedisKeys: its fixed shared keys, the tasks channel, its channels and templates. */
interface FixedParts {
  /** By shared slot: the key when it is fixed, else undefined (built per call). */
  shared: (string | undefined)[];
  tasksChannel: string;
  /** The channels' names, then the templates, as they end ARGV. */
  tail: string[];
}

/**
 * Built once per script and RedisKeys rather than per call: a worker's every attempt makes a
 * dispatch, a completion and an output append or two, and rebuilding two dozen fixed key names
 * and the templates each time was most of taskScriptCall's time.
 */
const FIXED = new WeakMap<RedisKeys, WeakMap<AnyTaskScript, FixedParts>>();

function fixedParts(script: AnyTaskScript, redisKeys: RedisKeys): FixedParts {
  let byScript = FIXED.get(redisKeys);
  if (!byScript) FIXED.set(redisKeys, (byScript = new WeakMap()));
  let parts = byScript.get(script);
  if (!parts) {
    const none: TaskScope = { taskId: '', tenant: '', at: 0 };
    parts = {
      shared: script.shared.map((slot) => (slot.fixed ? slot.build(redisKeys, none) : undefined)),
      tasksChannel: redisKeys.tasksChannel(),
      tail: [...script.channels.map((channel) => channel.name(redisKeys)), ...script.templates.map((template) => template.build(redisKeys))],
    };
    byScript.set(script, parts);
  }
  return parts;
}

/** A script's reply as strings: its status first. Throws on anything else. */
export function replyList(reply: unknown): [string, ...string[]] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected task script reply');
  return reply.map(String) as [string, ...string[]];
}
