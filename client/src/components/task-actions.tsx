import { createMutation } from '@urql/solid';
import { createSignal, Show } from 'solid-js';
import type { TaskState } from '../gql/graphql.ts';
import { CancelTaskMutation, DeleteTaskMutation, RetryTaskMutation } from '../graphql/tasks.ts';
import { errorMessage } from '../format.ts';
import { navigate } from '../router.ts';
import { isCancellable, isRetryable } from '../task-states.ts';

/** Cancel, retry and delete for one task. The new state arrives over the live subscription. */
export function TaskActions(props: { id: string; state: TaskState }) {
  const [cancelState, cancel] = createMutation(CancelTaskMutation);
  const [retryState, retry] = createMutation(RetryTaskMutation);
  const [deleteState, remove] = createMutation(DeleteTaskMutation);
  const [error, setError] = createSignal<string | null>(null);
  const [resetCount, setResetCount] = createSignal(true);
  const busy = () => cancelState.fetching || retryState.fetching || deleteState.fetching;

  const report = (result: { error?: { graphQLErrors: { message: string }[]; message: string } }) => {
    setError(result.error ? errorMessage(result.error) : null);
  };

  return (
    <div class="actions" role="group" aria-label="Task actions">
      <Show when={isCancellable(props.state)}>
        <button type="button" disabled={busy()} onClick={async () => report(await cancel({ id: props.id }))}>
          Cancel
        </button>
      </Show>
      <Show when={isRetryable(props.state)}>
        <button type="button" disabled={busy()} onClick={async () => report(await retry({ id: props.id, resetRetryCount: resetCount() }))}>
          Retry
        </button>
        <label class="inline">
          <input type="checkbox" checked={resetCount()} onChange={(event) => setResetCount(event.currentTarget.checked)} /> reset the retry count
        </label>
      </Show>
      <button
        type="button"
        class="danger"
        disabled={busy()}
        onClick={async () => {
          if (!window.confirm('Delete this task and its history?')) return;
          const result = await remove({ id: props.id });
          report(result);
          if (!result.error) navigate('/tasks');
        }}
      >
        Delete
      </button>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </div>
  );
}
