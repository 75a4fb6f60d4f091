/**
 * The Lua scripts that are the only writers of a task record, each with its typed contract.
 * Each script checks the state (and, for a worker, its lease token) it expects, writes the
 * hash, bumps `version`, moves the task between state indexes, appends the change to the
 * task's capped event stream and publishes it: all in one atomic step, so readers never see
 * half a transition.
 *
 * Every key a script touches is built in redis-keys.ts and arrives through KEYS: the scripts
 * build no key names themselves (which also keeps them open to Redis Cluster). A script's
 * keys and arguments are declared by name below (`defineTaskScript`); the Lua sees them as
 * named locals (`TASK_KEY`, `INDEX[state]`, `LEASE_TOKEN`, ...) generated from the same
 * declaration the callers use, so positions cannot drift apart. Every script shares:
 *   keys: the task hash, its event stream, the all-tasks index and its tenant slice, each
 *         state index and its tenant slice, the dead-letter index of each error class, the
 *         finished index, the stats hash and the flow counter of the caller's minute;
 *   args: the stream cap, the all-tasks channel, the actor (worker id or '') and the tenant.
 * The tenant names the slices passed in. A script that finds the task under another tenant
 * changes nothing and fails with `WRONGTENANT <tenant>`; the caller runs it again with that
 * tenant (common/task-script-runner.ts), so a caller that does not know it yet may pass ''.
 *
 * Times come from Redis' clock (TIME), so hosts with skewed clocks agree on leases and due
 * times; only the per-minute flow counter is picked by the caller's clock. A worker's write
 * needs its lease token to be current, not unexpired: a worker whose lease ran out may still
 * finish if nobody has taken the task over, and then its is the one result.
 */
import type { RedisKeys } from './redis-keys.ts';
import { ERROR_CLASSES, TASK_STATES, type TaskState, type TaskType } from './task.ts';
import { LATENCY_BUCKETS_MS } from './task-stats.ts';

/** How long a per-minute flow counter is kept (the dashboard shows at most the last hour). */
export const FLOW_BUCKET_TTL_MS = 2 * 60 * 60 * 1000;

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
}

const minuteOf = (at: number) => at - (at % 60_000);

/** The keys every task script starts with, in KEYS order. */
const SHARED_KEYS: readonly KeySlot[] = [
  { lua: 'TASK_KEY', build: (keys, scope) => keys.task(scope.taskId) },
  { lua: 'EVENTS_KEY', build: (keys, scope) => keys.taskEvents(scope.taskId) },
  { lua: 'ALL_KEY', build: (keys) => keys.tasksAll() },
  { lua: 'TENANT_ALL_KEY', build: (keys, scope) => keys.tenantSlice(keys.tasksAll(), scope.tenant) },
  ...TASK_STATES.map((state): KeySlot => ({ lua: `INDEX.${state}`, build: (keys) => keys.tasksInState(state) })),
  ...TASK_STATES.map((state): KeySlot => ({ lua: `TENANT_INDEX.${state}`, build: (keys, scope) => keys.tenantSlice(keys.tasksInState(state), scope.tenant) })),
  ...ERROR_CLASSES.map((errorClass): KeySlot => ({ lua: `DLQ_INDEX.${errorClass}`, build: (keys) => keys.deadLetterByClass(errorClass) })),
  { lua: 'FINISHED_KEY', build: (keys) => keys.tasksFinished() },
  { lua: 'STATS_KEY', build: (keys) => keys.taskStats() },
  { lua: 'FLOW_KEY', build: (keys, scope) => keys.taskFlowBucket(minuteOf(scope.at)) },
];

/** The arguments every task script starts with, in ARGV order. */
const SHARED_ARGS = ['MAX_EVENTS', 'TASKS_CHANNEL', 'ACTOR', 'TENANT'] as const;

/** `leaseToken` -> `LEASE_TOKEN`: how a declared name reads in Lua. */
const luaName = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();

/** Binds every declared key and argument to its Lua name. */
function luaBindings(keys: readonly string[], args: readonly string[]): string {
  const lines = ['local INDEX, TENANT_INDEX, DLQ_INDEX = {}, {}, {}'];
  SHARED_KEYS.forEach((slot, i) => lines.push(`${slot.lua.includes('.') ? '' : 'local '}${slot.lua} = KEYS[${i + 1}]`));
  keys.forEach((name, i) => lines.push(`local ${luaName(name)}_KEY = KEYS[${SHARED_KEYS.length + i + 1}]`));
  SHARED_ARGS.forEach((name, i) => lines.push(`local ${name} = ARGV[${i + 1}]`));
  args.forEach((name, i) => lines.push(`local ${luaName(name)} = ARGV[${SHARED_ARGS.length + i + 1}]`));
  return lines.join('\n');
}
