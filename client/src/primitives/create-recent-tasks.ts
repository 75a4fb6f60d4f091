/**
 * The recent-tasks list: one query for the first page, then every change from the
 * tasksUpdated subscription merged in by id, keeping the highest version, and deletions
 * from taskDeleted. Refetches the page after a reconnect, since changes made while offline
 * were not streamed.
 */
import { createQuery, createSubscription } from '@urql/solid';
import { createEffect, createMemo, on, type Accessor } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { TaskSummaryFieldsFragment } from '../gql/graphql.ts';
import { RecentTasksQuery, TaskDeletedSubscription, TasksUpdatedSubscription } from '../graphql/documents.ts';

export type TaskSummary = TaskSummaryFieldsFragment;

export function createRecentTasks(options: { limit: number; connectionEpoch: Accessor<number> }) {
  const [page, refetch] = createQuery({ query: RecentTasksQuery, variables: { first: options.limit } });
  // Setting an id to undefined removes it from the store (a deleted task).
  const [byId, setById] = createStore<Record<string, TaskSummary | undefined>>({});

  const merge = (task: TaskSummary) => {
    const known = byId[task.id];
    if (!known || known.version < task.version) setById(task.id, reconcile(task));
  };

  createEffect(() => page.data?.tasks.nodes.forEach(merge));
  createSubscription({ query: TasksUpdatedSubscription }, (_previous, data) => {
    merge(data.tasksUpdated);
    return data;
  });
  createSubscription({ query: TaskDeletedSubscription }, (_previous, data) => {
    setById(data.taskDeleted, undefined);
    return data;
  });
  createEffect(on(options.connectionEpoch, (epoch) => epoch > 1 && refetch(), { defer: true }));

  const tasks = createMemo(() =>
    Object.values(byId)
      .filter((task): task is TaskSummary => task !== undefined)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .slice(0, options.limit),
  );
  return {
    tasks,
    /** Shows a task the moment it was submitted, before its first event arrives. */
    add: merge,
    loading: () => page.fetching && !page.data,
    error: () => page.error?.message ?? null,
  };
}
