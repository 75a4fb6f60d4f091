/**
 * One task, live: the taskUpdated subscription sends the current snapshot first, then every
 * change. After a reconnect the server sends the snapshot again; versions only grow, so an
 * older event never overwrites a newer one.
 */
import { createSubscription } from '@urql/solid';
import type { Accessor } from 'solid-js';
import type { TaskDetailFieldsFragment } from '../gql/graphql.ts';
import { errorMessage } from '../format.ts';
import { TaskUpdatedSubscription } from '../graphql/documents.ts';

export type TaskDetail = TaskDetailFieldsFragment;

export function createTask(id: Accessor<string>) {
  const [state] = createSubscription<{ taskUpdated: TaskDetail }, TaskDetail | undefined>(
    { query: TaskUpdatedSubscription, variables: () => ({ id: id() }) },
    (previous, data) => (previous && previous.id === data.taskUpdated.id && previous.version > data.taskUpdated.version ? previous : data.taskUpdated),
  );
  return {
    task: () => state.data,
    error: () => (state.error ? errorMessage(state.error) : null),
  };
}
