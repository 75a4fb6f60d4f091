import { createMutation } from '@urql/solid';
import { createSignal, Show } from 'solid-js';
import { errorMessage } from '../format.ts';
import { SubmitTaskMutation } from '../graphql/documents.ts';
import type { TaskSummary } from '../primitives/create-recent-tasks.ts';

/** Paste text, submit, and hand the accepted task to the list at once. */
export function SubmitForm(props: { onSubmitted: (task: TaskSummary) => void }) {
  const [content, setContent] = createSignal('');
  const [idempotencyKey, setIdempotencyKey] = createSignal('');
  const [error, setError] = createSignal<string | null>(null);
  const [state, submit] = createMutation(SubmitTaskMutation);

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    setError(null);
    const key = idempotencyKey().trim();
    const result = await submit({ input: { content: content(), ...(key ? { idempotencyKey: key } : {}) } });
    if (result.error) {
      setError(errorMessage(result.error));
      return;
    }
    if (result.data) {
      props.onSubmitted(result.data.submitTask);
      setContent('');
      setIdempotencyKey('');
    }
  };

  return (
    <form class="card submit-form" onSubmit={onSubmit} aria-label="Submit a task">
      <h2>Summarize text</h2>
      <label for="content">Text</label>
      <textarea
        id="content"
        name="content"
        rows={8}
        placeholder="Paste the text to summarize…"
        value={content()}
        onInput={(event) => setContent(event.currentTarget.value)}
        required
      />
      <details>
        <summary>Options</summary>
        <label for="idempotency-key">Idempotency key (optional)</label>
        <input
          id="idempotency-key"
          name="idempotencyKey"
          value={idempotencyKey()}
          onInput={(event) => setIdempotencyKey(event.currentTarget.value)}
          placeholder="e.g. order-42"
        />
      </details>
      <div class="form-actions">
        <button type="submit" disabled={state.fetching || content().trim().length === 0}>
          {state.fetching ? 'Submitting…' : 'Submit'}
        </button>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
      </div>
    </form>
  );
}
