/**
 * Every task change and deletion, live, batched per animation frame: one subscription to
 * tasksUpdated and one to taskDeleted, handed to `onBatch` as a list of changes. The lists
 * and the table build on it.
 *
 * Neither feed has a snapshot; each one's first message says it is live (`data: null`,
 * `extensions.live`, which reaches the handler as data without a task: see `liveAwareSink` in
 * urql-client.ts). When tasksUpdated says so again (it was resubscribed after a reconnect),
 * `onLive` tells the caller to re-read what it shows: changes made while it was away are in
 * that read, and every later one comes on the feed.
 */
import { createSubscription } from '@urql/solid';
import { onCleanup, type Accessor } from 'solid-js';
import type { TaskSummaryFieldsFragment } from '../gql/graphql.ts';
import { TaskDeletedSubscription, TasksUpdatedSubscription } from '../graphql/tasks.ts';
import { createFrameBatcher, type FrameScheduler } from './frame-batcher.ts';
import type { TaskChange } from './task-merge.ts';

export type TaskSummary = TaskSummaryFieldsFragment;

export function createLiveTasks(options: {
  onBatch: (changes: TaskChange<TaskSummary>[]) => void;
  /** The feed is live again after a reconnect: re-read. */
  onLive?: () => void;
  pause?: Accessor<boolean>;
  schedule?: FrameScheduler;
}) {
  const batcher = createFrameBatcher<TaskChange<TaskSummary>>(options.onBatch, options.schedule);
  onCleanup(() => batcher.dispose());
  const pause = options.pause ?? (() => false);
  let liveMessages = 0;
  createSubscription({ query: TasksUpdatedSubscription, pause }, (previous, data) => {
    // The "feed is live" message carries no task.
    if (!data?.tasksUpdated) {
      liveMessages += 1;
      if (liveMessages > 1) options.onLive?.();
      return previous ?? data;
    }
    batcher.push({ kind: 'update', task: data.tasksUpdated });
    return data;
  });
  createSubscription({ query: TaskDeletedSubscription, pause }, (previous, data) => {
    if (!data?.taskDeleted) return previous ?? data;
    batcher.push({ kind: 'delete', id: data.taskDeleted });
    return data;
  });
  return batcher;
}
