/**
 * One task, live: the taskUpdated subscription sends the current snapshot first, then every
 * change. After a reconnect the server sends the snapshot again; versions only grow, so an
 * older event never overwrites a newer one. The task's standing (why it waits, its position,
 * when it should start) changes without a new version: the server sends the task again with the
 * same version and a later `standingAt`, which replaces it (replacesTask in task-merge.ts).
 */
import { createSubscription } from '@urql/solid';
import type { Accessor } from 'solid-js';
import type { TaskDetailFieldsFragment } from '../gql/graphql.ts';
import { errorMessage } from '../format.ts';
import { TaskUpdatedSubscription } from '../graphql/tasks.ts';
import { replacesTask } from './task-merge.ts';

export type TaskDetail = TaskDetailFieldsFragment;

export function createTask(id: Accessor<string>) {
  const [state] = createSubscription<{ taskUpdated: TaskDetail }, TaskDetail | undefined>(
    { query: TaskUpdatedSubscription, variables: () => ({ id: id() }) },
    (previous, data) => (replacesTask(previous, data.taskUpdated) ? data.taskUpdated : previous!),
  );
  return {
    task: () => state.data,
    error: () => (state.error ? errorMessage(state.error) : null),
  };
}
