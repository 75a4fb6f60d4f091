/**
 * The recent-tasks list: one query for the first page, then every change from the live
 * feed merged in by id (highest version wins, batched per frame), deletions removed.
 * Refetches the page after a reconnect, since changes made while offline were not streamed.
 * Also picks the few tasks whose live output tail the list shows (`outputTails`), and follows
 * where its waiting tasks stand (create-standings.ts).
 */
import { createQuery } from '@urql/solid';
import { batch, createEffect, createMemo } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import { RecentTasksQuery } from '../graphql/tasks.ts';
import { mayWait } from '../dispatch-labels.ts';
import { createLiveTasks, type TaskSummary } from './create-live-tasks.ts';
import { createStandings, type ListStanding } from './create-standings.ts';
import { reduceTaskChanges, type TaskChange } from './task-merge.ts';

export type { TaskSummary };

const newestFirst = (a: TaskSummary, b: TaskSummary) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

/** How many output tails the list shows by default: each one is a taskOutput subscription. */
export const MAX_OUTPUT_TAILS = 4;

/** The ids of the first `max` ACTIVE tasks of `tasks` (the list's order: newest first). */
export function outputTailIds(tasks: readonly TaskSummary[], max: number): string[] {
  return tasks
    .filter((task) => task.state === 'ACTIVE')
    .slice(0, max)
    .map((task) => task.id);
}

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, index) => id === b[index]);

/**
 * The recent tasks, newest first, at most `limit`. `maxOutputTails` (default
 * MAX_OUTPUT_TAILS) bounds how many ACTIVE tasks get their output followed.
 */
export function createRecentTasks(options: { limit: number; maxOutputTails?: number }) {
  const [page, refetch] = createQuery({ query: RecentTasksQuery, variables: { first: options.limit } });
  // Setting an id to undefined removes it from the store (a deleted task).
  const [byId, setById] = createStore<Record<string, TaskSummary | undefined>>({});

  const apply = (changes: TaskChange<TaskSummary>[]) => {
    const { updated, deleted } = reduceTaskChanges((id) => byId[id], changes);
    batch(() => {
      deleted.forEach((id) => setById(id, undefined));
      updated.forEach((task, id) => setById(id, reconcile(task)));
      // Kept open all day, the list must not hold every task it ever heard of.
      const known = Object.values(byId).filter((task): task is TaskSummary => task !== undefined);
      if (known.length > options.limit * 2) {
        known.sort(newestFirst);
        for (const task of known.slice(options.limit)) setById(task.id, undefined);
      }
    });
  };
  const merge = (task: TaskSummary) => apply([{ kind: 'update', task }]);

  createEffect(() => {
    const nodes = page.data?.tasks.nodes;
    if (nodes) apply(nodes.map((task) => ({ kind: 'update' as const, task })));
  });
  // Re-read once the resubscribed feed is live again after a reconnect.
  createLiveTasks({ onBatch: apply, onLive: () => refetch() });

  const tasks = createMemo(() =>
    Object.values(byId)
      .filter((task): task is TaskSummary => task !== undefined)
      .sort(newestFirst)
      .slice(0, options.limit),
  );
  // Only a change of the set reaches the rows, so a progress update starts or stops nothing.
  const outputTails = createMemo(() => outputTailIds(tasks(), options.maxOutputTails ?? MAX_OUTPUT_TAILS), [], { equals: sameIds });
  const standings = createStandings({ rows: tasks });
  return {
    tasks,
    /** The tasks whose output tail the list shows: the newest ACTIVE ones, a few at most. */
    outputTails,
    /** Where a waiting task of the list stands; undefined for one that does not wait. */
    standing: (id: string): ListStanding | undefined => (byId[id] && mayWait(byId[id].state) ? standings.standing(id) : undefined),
    /** Shows a task the moment it was submitted, before its first event arrives. */
    add: merge,
    loading: () => page.fetching && !page.data,
    error: () => page.error?.message ?? null,
  };
}
