/**
 * Which tenant policy may have been in force when, from the admin's changes (chaos/policies.ts):
 * a change may be in force from when it was sent, and is by the time it was answered. Changes
 * go one at a time, so at any moment the policy in force is the last answered change's or one
 * of those sent since.
 */
import type { PolicyChange } from './policies.ts';

/** [from, to) in epoch ms. */
export type Interval = readonly [number, number];

/** A tenant's changes that set its cap, in the order sent. */
export const capChangesOf = (changes: readonly PolicyChange[], tenant: string) =>
  changes.filter((change) => change.tenant === tenant && change.input.maxConcurrency !== undefined);

/**
 * The caps (null: none) that may be in force at `at`, given the tenant's cap changes in order;
 * and `since`: from when on only these could be (the last answered change's answer; -Infinity
 * before any).
 */
export function capsAt(capChanges: readonly PolicyChange[], at: number): { caps: (number | null)[]; since: number } {
  let latest = -1;
  capChanges.forEach((change, i) => {
    if (change.answeredAt !== null && change.answeredAt <= at) latest = i;
  });
  const caps = [latest >= 0 ? capChanges[latest]!.input.maxConcurrency! : null];
  // Sent and not answered by then: maybe in force already.
  for (const change of capChanges.slice(latest + 1)) if (change.sentAt <= at) caps.push(change.input.maxConcurrency ?? null);
  return { caps, since: latest >= 0 ? capChanges[latest]!.answeredAt! : -Infinity };
}

/**
 * When the tenant may have been paused: from each pause's sending to the answer of the resume
 * after it (a resume never answered leaves it paused until one is).
 */
export function pausedIntervals(changes: readonly PolicyChange[], tenant: string): Interval[] {
  const intervals: Interval[] = [];
  let from: number | null = null;
  for (const change of changes) {
    if (change.tenant !== tenant || change.input.paused === undefined) continue;
    if (change.input.paused) from ??= change.sentAt;
    else if (from !== null && change.answeredAt !== null) {
      intervals.push([from, change.answeredAt]);
      from = null;
    }
  }
  if (from !== null) intervals.push([from, Infinity]);
  return intervals;
}

/** The union of `intervals`, sorted, none overlapping. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].filter(([from, to]) => to > from).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** How much of [from, to) merged intervals cover. */
export function coveredWithin(merged: readonly Interval[], from: number, to: number): number {
  let covered = 0;
  // Binary search for the first interval that ends after `from`.
  let low = 0;
  let high = merged.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (merged[middle]![1] <= from) low = middle + 1;
    else high = middle;
  }
  for (let i = low; i < merged.length && merged[i]![0] < to; i += 1) {
    covered += Math.min(to, merged[i]![1]) - Math.max(from, merged[i]![0]);
  }
  return covered;
}
