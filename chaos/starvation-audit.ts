/**
 * The invariant "no task starved past its bound" (docs/chaos.md). For each task X of tenant T:
 *
 * - `head`: when X became the head of T's line: its submission, or the first start (or
 *   cancellation) of the last task of T ahead of it (a smaller rank: submit order moved by
 *   priority, so a LOW task is behind T's tasks of the next PRIORITY_OFFSET_MS) that left the
 *   line before X started. The wait before that is T's own backlog, which fairness allows.
 * - `start`: its first start (or when it was cancelled unstarted; the audit's time if neither).
 * - `excused`: the part of [head, start) during which T was paused (pause sent to resume
 *   answered), or a sample found T at its cap, or the whole cluster started nothing for more
 *   than STALL_MS (a Redis restart, workers stopped: no tenant starts, so none is passed over).
 * - starved = start - head - excused must stay within the bound (`starvationBound`).
 *
 * The bound follows from docs/dispatch.md. Once X heads T's line and T may start, start-time
 * fair queueing gives every other tenant U at most ceil(w_U / w_T) + 1 starts (tasks of one
 * cost, as here) before T's next turn, and RETRY_RATIO may give that turn to one of T's retries
 * first: at most `turns` = (tenants - 1) x (maxWeight + 1) x (1 + ceil(r / (1 - r))) starts of
 * others, which take turns / rate, where rate is the run's start rate outside stalls, or the
 * cluster's start rate during X's wait where that was slower (a loaded machine). Add what can hold a ticket
 * up without stopping the cluster: a worker stopped or killed holding it (until its lease, the
 * job's stall check, LEASE_MS) and a ticket lost with Redis (the sweeper's SWEEP_INTERVAL_MS).
 */
import type { TaskPriority } from '../schema/src/dispatch.ts';
import type { LeaseSample } from './lease-sampler.ts';
import type { PolicyChange } from './policies.ts';
import { capChangesOf, capsAt, coveredWithin, mergeIntervals, pausedIntervals, type Interval } from './policy-timeline.ts';
import type { TaskHistory } from './task-history.ts';

/** A gap longer than this with no start anywhere counts as a stall of the whole cluster. */
export const STALL_MS = 1000;

export interface StarvationInput {
  histories: readonly TaskHistory[];
  tenants: readonly string[];
  samples: readonly LeaseSample[];
  changes: readonly PolicyChange[];
  /** When the audit ran: the end of the wait of a task that never started nor ended. */
  auditAt: number;
  bound: BoundTerms;
}

/** What the bound is made of (the cluster's settings and the policies' range). */
export interface BoundTerms {
  leaseMs: number;
  sweepIntervalMs: number;
  retryRatio: number;
  /** The largest weight a tenant is given (the smallest is 1). */
  maxWeight: number;
}

/** The worst task of one tenant and priority. */
export interface Worst {
  tenant: string;
  priority: TaskPriority;
  tasks: number;
  taskId: string;
  starvedMs: number;
  /** Its whole wait from submission to first start, and the part of it behind its own tenant's tasks. */
  waitMs: number;
  behindOwnMs: number;
}

export interface StarvationResult {
  boundMs: number;
  /** Starts of other tenants a head task may wait through, and the run's start rate (per second, outside stalls). */
  turns: number;
  startsPerSecond: number;
  worst: Worst[];
  /** Cluster stalls (no start anywhere for more than STALL_MS): how many, the longest, the total. */
  stalls: { count: number; longestMs: number; totalMs: number };
  problems: string[];
}

/** How long each task waited past its tenant's own backlog, beyond what pauses, caps and stalls excuse. */
export function auditStarvation(input: StarvationInput): StarvationResult {
  const claimTimes = input.histories.flatMap((task) => task.claims.map((claim) => claim.at)).sort((a, b) => a - b);
  const stalls = clusterStalls(input.histories, claimTimes);
  const lengths = stalls.map(([from, to]) => to - from);
  const stallMs = lengths.reduce((sum, length) => sum + length, 0);
  const startsPerSecond = startRate(input.histories, claimTimes, stallMs);
  const { boundMs, turns } = starvationBound(input.bound, input.tenants.length, startsPerSecond);
  const worst: Worst[] = [];
  const problems: string[] = [];
  for (const tenant of input.tenants) {
    const excused = mergeIntervals([...pausedIntervals(input.changes, tenant), ...atCapIntervals(input, tenant), ...stalls]);
    const tasks = input.histories.filter((task) => task.tenant === tenant).sort((a, b) => a.rank - b.rank);
    const byPriority = new Map<TaskPriority, Worst>();
    tasks.forEach((task, i) => {
      const { start, head, starvedMs } = waitOf(task, tasks.slice(0, i), excused, input.auditAt);
      const entry = byPriority.get(task.priority) ?? { tenant, priority: task.priority, tasks: 0, taskId: task.id, starvedMs: -Infinity, waitMs: 0, behindOwnMs: 0 };
      entry.tasks += 1;
      if (starvedMs > entry.starvedMs) Object.assign(entry, { taskId: task.id, starvedMs, waitMs: start - task.submittedAt, behindOwnMs: head - task.submittedAt });
      byPriority.set(task.priority, entry);
      // Where the cluster started tasks slower than over the whole run, the turns took longer.
      const localRate = ((countWithin(claimTimes, head, start) / (start - head)) * 1000) || Infinity;
      const bound = starvationBound(input.bound, input.tenants.length, Math.min(startsPerSecond, localRate)).boundMs;
      if (starvedMs > bound) {
        problems.push(
          `starvation: ${task.id} (${tenant}, ${task.priority}) waited ${seconds(start - task.submittedAt)}, ${seconds(head - task.submittedAt)} of it behind its tenant's own tasks; ` +
            `${seconds(starvedMs)} of the rest unexcused, over the bound of ${seconds(bound)}`,
        );
      }
    });
    worst.push(...(['HIGH', 'NORMAL', 'LOW'] as const).flatMap((priority) => byPriority.get(priority) ?? []));
  }
  return { boundMs, turns, startsPerSecond, worst, stalls: { count: stalls.length, longestMs: Math.max(0, ...lengths), totalMs: stallMs }, problems };
}

/** A task's wait: when it started, when it headed its tenant's line (`ahead`: its tenant's tasks of smaller rank), and the unexcused rest. */
function waitOf(task: TaskHistory, ahead: readonly TaskHistory[], excused: readonly Interval[], auditAt: number) {
  const start = task.claims[0]?.at ?? task.endedUnstartedAt ?? auditAt;
  let head = task.submittedAt;
  // Tasks ahead of it that left the line before it started: it was behind them until then.
  for (const other of ahead) {
    const left = leftLineAt(other);
    if (left < start && left > head) head = left;
  }
  return { start, head, starvedMs: start - head - coveredWithin(excused, head, start) };
}

/** How many of the sorted `times` fall in [from, to). */
function countWithin(times: readonly number[], from: number, to: number): number {
  const firstAtOrAfter = (at: number) => {
    let low = 0;
    let high = times.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (times[middle]! < at) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return firstAtOrAfter(to) - firstAtOrAfter(from);
}

/** The bound on a task's unexcused wait at the head of its tenant's line (see the header). */
export function starvationBound(terms: BoundTerms, tenants: number, startsPerSecond: number): { boundMs: number; turns: number } {
  const retryTurns = Math.ceil(terms.retryRatio / (1 - terms.retryRatio));
  const turns = (tenants - 1) * (terms.maxWeight + 1) * (1 + retryTurns);
  const turnsMs = startsPerSecond > 0 ? (turns / startsPerSecond) * 1000 : Infinity;
  return { boundMs: terms.leaseMs + terms.sweepIntervalMs + turnsMs, turns };
}

/** Starts per second from the first submission to the last start, stalls left out (`claimTimes` sorted). */
function startRate(histories: readonly TaskHistory[], claimTimes: readonly number[], stallMs: number): number {
  if (claimTimes.length === 0) return 0;
  const from = histories.reduce((first, task) => Math.min(first, task.submittedAt), Infinity);
  const activeMs = claimTimes.at(-1)! - from - stallMs;
  return activeMs > 0 ? (claimTimes.length / activeMs) * 1000 : 0;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** When a task left its line: its first start, or its end if it never started (Infinity while it waits). */
const leftLineAt = (task: TaskHistory) => task.claims[0]?.at ?? task.endedUnstartedAt ?? Infinity;

/** Gaps longer than STALL_MS between two starts anywhere in the cluster (the first submission counts as a start). */
function clusterStalls(histories: readonly TaskHistory[], claimTimes: readonly number[]): Interval[] {
  const times = [...claimTimes];
  if (histories.length > 0) times.unshift(histories.reduce((first, task) => Math.min(first, task.submittedAt), Infinity));
  times.sort((a, b) => a - b);
  const stalls: Interval[] = [];
  for (let i = 1; i < times.length; i += 1) if (times[i]! - times[i - 1]! > STALL_MS) stalls.push([times[i - 1]!, times[i]!]);
  return stalls;
}

/**
 * When the samples found the tenant at a cap that may have been in force: each such sample
 * counts until the next one (at most a second: a missing sample proves nothing).
 */
function atCapIntervals({ samples, changes }: StarvationInput, tenant: string): Interval[] {
  const capChanges = capChangesOf(changes, tenant);
  const intervals: Interval[] = [];
  samples.forEach((sample, i) => {
    const live = sample.live.get(tenant)?.length ?? 0;
    const { caps } = capsAt(capChanges, sample.at);
    if (caps.some((cap) => cap !== null && live >= cap)) intervals.push([sample.at, Math.min(samples[i + 1]?.at ?? Infinity, sample.at + 1000)]);
  });
  return intervals;
}
