/**
 * Every task change and deletion, live, batched per animation frame: one subscription to
 * tasksUpdated and one to taskDeleted, handed to `onBatch` as a list of changes. The lists
 * and the table build on it.
 */
import { createSubscription } from '@urql/solid';
import { onCleanup, type Accessor } from 'solid-js';
import type { TaskSummaryFieldsFragment } from '../gql/graphql.ts';
import { TaskDeletedSubscription, TasksUpdatedSubscription } from '../graphql/documents.ts';
import { createFrameBatcher, type FrameScheduler } from './frame-batcher.ts';
import type { TaskChange } from './task-merge.ts';

export type TaskSummary = TaskSummaryFieldsFragment;

export function createLiveTasks(options: {
  onBatch: (changes: TaskChange<TaskSummary>[]) => void;
  pause?: Accessor<boolean>;
  schedule?: FrameScheduler;
}) {
  const batcher = createFrameBatcher<TaskChange<TaskSummary>>(options.onBatch, options.schedule);
  onCleanup(() => batcher.dispose());
  const pause = options.pause ?? (() => false);
  createSubscription({ query: TasksUpdatedSubscription, pause }, (_previous, data) => {
    batcher.push({ kind: 'update', task: data.tasksUpdated });
    return data;
  });
  createSubscription({ query: TaskDeletedSubscription, pause }, (_previous, data) => {
    batcher.push({ kind: 'delete', id: data.taskDeleted });
    return data;
  });
  return batcher;
}
