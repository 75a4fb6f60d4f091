/**
 * `taskScriptCall`: one call's KEYS and ARGV, in the order a script's bindings expect
 * (define.ts), checked against what the script declares.
 */
import type { RedisKeys } from '../../redis-keys.ts';
import type { AnyTaskScript, ScriptArgs, ScriptKeys } from './define.ts';
import type { TaskScope } from './shared.ts';

/** The shared arguments of one call. */
export interface TaskScriptCommon {
  maxEvents: number;
  actor: string;
}

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
