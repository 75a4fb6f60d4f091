/**
 * The cluster-wide task counters the task scripts keep in one Redis hash (`RedisKeys.taskStats`)
 * and /metrics reads: how many tasks entered each state, submissions by type, failed attempts by
 * error class, completions by type, stale worker writes, output chunks and bytes, and wait and duration histograms. Field names are shared
 * with the Lua in scripts/ (prelude.ts, output.ts).
 */
import { taskPrioritySchema, type TaskPriority } from './dispatch.ts';
import { MODEL_SWITCH_REASONS, type ModelSwitchReason } from './model-chain.ts';
import { ERROR_CLASSES, TASK_STATES, TASK_TYPES, type ErrorClass, type TaskState, type TaskType } from './task.ts';

/** Upper bounds of the latency histogram buckets (plus +Inf), in ms. */
export const LATENCY_BUCKETS_MS = [100, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000] as const;

export interface LatencyHistogram {
  /** Cumulative count per upper bound (ms), ending with Infinity. */
  buckets: { le: number; count: number }[];
  sumMs: number;
  count: number;
}

export interface TaskStats {
  submitted: Record<TaskType, number>;
  entered: Record<TaskState, number>;
  failed: Record<ErrorClass, number>;
  /** Tasks moved on to another model of their chain, by reason (schema/src/model-chain.ts). */
  modelSwitches: Record<ModelSwitchReason, number>;
  /** Tasks completed, by type. */
  completed: Record<TaskType, number>;
  staleWrites: number;
  /** Live output appended by workers (the final chunk of a completion included). */
  outputChunks: number;
  outputBytes: number;
  wait: LatencyHistogram;
  duration: LatencyHistogram;
}

/** The histogram bucket field an observation of `ms` counts in (the Lua `observe` does the same). */
export function bucketField(name: string, ms: number): string {
  const le = LATENCY_BUCKETS_MS.find((bound) => ms <= bound);
  return `${name}:le:${le === undefined ? '+Inf' : le}`;
}

/**
 * Reads one histogram (`<name>:le:<bound>`, `<name>:sum_ms`) out of a stats hash. Its count is
 * the sum of its buckets (each observation counts in exactly one); a `<name>:count` field that
 * scripts before 2026-12-07 also kept is not read.
 */
export function histogram(fields: Record<string, string>, name: string): LatencyHistogram {
  let running = 0;
  const buckets = [...LATENCY_BUCKETS_MS, Infinity].map((le) => {
    running += Number(fields[`${name}:le:${le === Infinity ? '+Inf' : le}`] ?? 0);
    return { le, count: running };
  });
  return { buckets, sumMs: Number(fields[`${name}:sum_ms`] ?? 0), count: running };
}

/** Reads the stats hash (HGETALL) into numbers; missing fields are zero. */
export function parseTaskStats(fields: Record<string, string>): TaskStats {
  const counts = <K extends string>(names: readonly K[], prefix: string) =>
    Object.fromEntries(names.map((name) => [name, Number(fields[`${prefix}:${name}`] ?? 0)])) as Record<K, number>;
  return {
    submitted: counts(TASK_TYPES, 'submitted'),
    entered: counts(TASK_STATES, 'entered'),
    failed: counts(ERROR_CLASSES, 'failed'),
    modelSwitches: counts(MODEL_SWITCH_REASONS, 'model_switches'),
    completed: counts(TASK_TYPES, 'completed'),
    staleWrites: Number(fields.stale_writes ?? 0),
    outputChunks: Number(fields.output_chunks ?? 0),
    outputBytes: Number(fields.output_bytes ?? 0),
    wait: histogram(fields, 'wait'),
    duration: histogram(fields, 'duration'),
  };
}

/** Provider calls as workers record them (`RedisKeys.providerCallStats`): one histogram per status. */
export function parseProviderCallStats(fields: Record<string, string>): Map<string, LatencyHistogram> {
  const statuses = new Set(Object.keys(fields).flatMap((field) => (field.endsWith(':count') ? [field.slice(0, -':count'.length)] : [])));
  return new Map([...statuses].sort().map((status) => [status, histogram(fields, status)]));
}

/** A counter of one tenant and priority. */
export interface TenantPriorityCount {
  tenant: string;
  priority: TaskPriority;
  value: number;
}

/**
 * The fair dispatcher's counters in the same hash (scripts/dispatch.ts, scripts/api.ts): tasks
 * that joined a line and left it, starts and their estimated tokens, by tenant (and priority);
 * the wait from joining a line to the start; tokens reserved against PROVIDER_TOKEN_LIMIT.
 */
export interface DispatchStats {
  /** Tasks in a line now: joined minus left, by tenant and priority (never below 0). */
  waiting: TenantPriorityCount[];
  starts: TenantPriorityCount[];
  /** Estimated tokens (the tasks' costs) of the starts, by tenant. */
  tokensStarted: { tenant: string; value: number }[];
  wait: LatencyHistogram;
  tokensReserved: number;
}

/**
 * `<prefix><tenant>:<priority>` -> tenant and priority. A tenant name may hold ':' itself (the
 * dispatcher takes any name), so the priority is what follows the last one.
 */
export function parseTenantPriorityField(field: string, prefix: string): { tenant: string; priority: TaskPriority } | null {
  if (!field.startsWith(prefix)) return null;
  const rest = field.slice(prefix.length);
  const colon = rest.lastIndexOf(':');
  const priority = taskPrioritySchema.safeParse(rest.slice(colon + 1));
  if (colon < 0 || !priority.success) return null;
  return { tenant: rest.slice(0, colon), priority: priority.data };
}

/** Reads the dispatcher's counters out of the stats hash (HGETALL). */
export function parseDispatchStats(fields: Record<string, string>): DispatchStats {
  const byPrefix = (prefix: string) => {
    const counts = new Map<string, TenantPriorityCount>();
    for (const [field, value] of Object.entries(fields)) {
      const parsed = parseTenantPriorityField(field, prefix);
      if (parsed) counts.set(`${parsed.priority}\t${parsed.tenant}`, { ...parsed, value: Number(value) });
    }
    return counts;
  };
  const queued = byPrefix('dispatch_queued:');
  // A task leaves its line by a dispatcher's start (counted once, as a start) or otherwise
  // (a cancel, a delete, a direct claim, a pick that could not claim it: `dispatch_dequeued`).
  const dequeued = byPrefix('dispatch_dequeued:');
  const started = byPrefix('dispatch_starts:');
  const left = (key: string) => (dequeued.get(key)?.value ?? 0) + (started.get(key)?.value ?? 0);
  const waiting = [...queued].map(([key, count]) => ({ ...count, value: Math.max(0, count.value - left(key)) }));
  const tokensStarted = Object.entries(fields).flatMap(([field, value]) =>
    field.startsWith('dispatch_tokens:') ? [{ tenant: field.slice('dispatch_tokens:'.length), value: Number(value) }] : [],
  );
  return {
    waiting,
    starts: [...started.values()],
    tokensStarted,
    wait: histogram(fields, 'dispatch_wait'),
    tokensReserved: Number(fields.dispatch_tokens_reserved ?? 0),
  };
}
