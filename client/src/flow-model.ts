/**
 * Pure arithmetic over the task flow (per-minute transition counts): edge totals for the
 * state diagram, and per-minute series for the charts. Queue depth per minute is rebuilt
 * backwards from the current counts: the count at the end of a minute is the count now minus
 * what flowed in since, plus what flowed out since.
 */
import type { TaskState } from './gql/graphql.ts';

export interface FlowTransition {
  from: TaskState | null;
  to: TaskState | null;
  count: number;
}
export interface FlowBucket {
  start: string;
  transitions: readonly FlowTransition[];
}

/** The chart series a task counts towards while it sits in a state (none for the final states). */
const LEVEL_SERIES = {
  PENDING: 'waiting',
  ACTIVE: 'active',
  SCHEDULED: 'waiting',
  COMPLETED: null,
  DLQ: null,
  CANCELLED: null,
} as const satisfies Record<TaskState, 'waiting' | 'active' | null>;

export const edgeKey = (from: TaskState | null, to: TaskState | null) => `${from ?? ''}>${to ?? ''}`;

/** Count per edge (`FROM>TO`, '' for none) over the last `minutes` buckets. */
export function edgeTotals(buckets: readonly FlowBucket[], minutes = buckets.length): Map<string, number> {
  const totals = new Map<string, number>();
  for (const bucket of buckets.slice(-minutes)) {
    for (const t of bucket.transitions) totals.set(edgeKey(t.from, t.to), (totals.get(edgeKey(t.from, t.to)) ?? 0) + t.count);
  }
  return totals;
}

export interface MinutePoint {
  start: number;
  submitted: number;
  completed: number;
  failed: number;
  retried: number;
  /** PENDING + SCHEDULED at the end of the minute. */
  waiting: number;
  active: number;
}

/** The series for the charts, oldest minute first; `counts` are the tasks per state now. */
export function minuteSeries(buckets: readonly FlowBucket[], counts: Partial<Record<TaskState, number>>): MinutePoint[] {
  const level = { waiting: 0, active: 0 };
  for (const [state, series] of Object.entries(LEVEL_SERIES)) if (series) level[series] += counts[state as TaskState] ?? 0;
  // A state from a server newer than this bundle is in no series.
  const seriesOf = (state: TaskState | null) => (state && Object.hasOwn(LEVEL_SERIES, state) ? LEVEL_SERIES[state] : null);
  const points: MinutePoint[] = [];
  // Walk from now backwards: `level` is the count at the end of the bucket being visited.
  for (let i = buckets.length - 1; i >= 0; i -= 1) {
    const bucket = buckets[i]!;
    const sum = (match: (t: FlowTransition) => boolean) => bucket.transitions.filter(match).reduce((n, t) => n + t.count, 0);
    points.unshift({
      start: Date.parse(bucket.start),
      submitted: sum((t) => t.from === null && t.to === 'PENDING'),
      completed: sum((t) => t.to === 'COMPLETED'),
      failed: sum((t) => t.to === 'DLQ'),
      retried: sum((t) => t.to === 'SCHEDULED'),
      waiting: Math.max(0, level.waiting),
      active: Math.max(0, level.active),
    });
    for (const t of bucket.transitions) {
      const into = seriesOf(t.to);
      const out = seriesOf(t.from);
      if (into) level[into] -= t.count;
      if (out) level[out] += t.count;
    }
  }
  return points;
}
