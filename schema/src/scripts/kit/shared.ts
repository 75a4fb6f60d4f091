/**
 * The keys and arguments every task script shares (see define.ts for what a script declares
 * besides): the task hash, its event stream, its output stream, the all-tasks index and its
 * tenant slice, each state index and its tenant slice, the dead-letter index of each error
 * class, the finished index, the stats hash and the flow counter of the caller's minute; the
 * stream cap, the all-tasks channel, the actor and the tenant. And which of the keys a script
 * takes: only those its transitions may touch.
 */
import type { RedisKeys } from '../../redis-keys.ts';
import { ERROR_CLASSES, TASK_STATES, type ErrorClass, type TaskState } from '../../task.ts';

/** What the shared keys of one call are built from. */
export interface TaskScope {
  taskId: string;
  /** The task's tenant ('' when the caller does not know it: the script answers WRONGTENANT). */
  tenant: string;
  /** Any instant of the minute whose flow counter this call's transition is counted in. */
  at: number;
}

/** One shared key: the Lua name it is bound to, and how a call builds it. */
export interface KeySlot {
  /** The Lua lvalue the key is bound to. */
  lua: string;
  build(keys: RedisKeys, scope: TaskScope): string;
  /** The same key whatever the call (no task, tenant or minute in it): built once per RedisKeys. */
  fixed?: true;
}

const minuteOf = (at: number) => at - (at % 60_000);


/** The keys every task script starts with, in KEYS order. */
export const SHARED_KEYS: readonly KeySlot[] = [
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
export const SHARED_ARGS = ['MAX_EVENTS', 'TASKS_CHANNEL', 'ACTOR', 'TENANT'] as const;

/** Which of the shared keys a script takes: see `defineTaskScript`'s `shared` and `states`. */
export interface SharedSelection {
  shared?: 'all' | 'record' | 'none' | 'picked';
  states?: readonly TaskState[];
  dlqClasses?: readonly ErrorClass[];
  body: string;
}

/** The shared key slots a script declared as `spec` takes, in KEYS order. */
export function sharedSlotsFor(spec: SharedSelection): readonly KeySlot[] {
  if (spec.shared === 'record') return SHARED_KEYS.filter((slot) => RECORD_KEYS.has(slot.lua));
  if (spec.shared === 'none') return [];
  return SHARED_KEYS.filter((slot) => (spec.shared !== 'picked' || !PICKED_OMITS(slot)) && (!spec.states || touches(slot, spec.states, spec.dlqClasses, spec.body)));
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
