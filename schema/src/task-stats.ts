/**
 * The cluster-wide task counters the task scripts keep in one Redis hash (`RedisKeys.taskStats`)
 * and /metrics reads: how many tasks entered each state, submissions by type, failed attempts by
 * error class, completions by type, stale worker writes, output chunks and bytes, and wait and duration histograms. Field names are shared
 * with the Lua in scripts/ (prelude.ts, output.ts).
 */
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

/** Reads one histogram (`<name>:le:<bound>`, `<name>:sum_ms`, `<name>:count`) out of a stats hash. */
export function histogram(fields: Record<string, string>, name: string): LatencyHistogram {
  let running = 0;
  const buckets = [...LATENCY_BUCKETS_MS, Infinity].map((le) => {
    running += Number(fields[`${name}:le:${le === Infinity ? '+Inf' : le}`] ?? 0);
    return { le, count: running };
  });
  return { buckets, sumMs: Number(fields[`${name}:sum_ms`] ?? 0), count: Number(fields[`${name}:count`] ?? 0) };
}

/** Reads the stats hash (HGETALL) into numbers; missing fields are zero. */
export function parseTaskStats(fields: Record<string, string>): TaskStats {
  const counts = <K extends string>(names: readonly K[], prefix: string) =>
    Object.fromEntries(names.map((name) => [name, Number(fields[`${prefix}:${name}`] ?? 0)])) as Record<K, number>;
  return {
    submitted: counts(TASK_TYPES, 'submitted'),
    entered: counts(TASK_STATES, 'entered'),
    failed: counts(ERROR_CLASSES, 'failed'),
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
