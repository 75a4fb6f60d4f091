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
  const [dragging, setDragging] = createSignal(false);
  const [fileName, setFileName] = createSignal<string | null>(null);
  const [state, submit] = createMutation(SubmitTaskMutation);

  // Plain text only: the file is read as UTF-8 text and submitted like pasted text.
  const readFile = async (file: File | undefined) => {
    if (!file) return;
    if (!/\.(txt|md|markdown)$/i.test(file.name) && !file.type.startsWith('text/')) {
      setError(`${file.name} is not a .txt or .md file`);
      return;
    }
    setError(null);
    setContent(await file.text());
    setFileName(file.name);
  };

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
      setFileName(null);
      setIdempotencyKey('');
    }
  };

  return (
    <form class="card submit-form" onSubmit={onSubmit} aria-label="Submit a task">
      <h2>Summarize text</h2>
      <label for="content">Text</label>
      <p class="muted small" id="content-hint">
        Paste text, or drop a <code>.txt</code> / <code>.md</code> file here.
      </p>
      <textarea
        aria-describedby="content-hint"
        classList={{ dropping: dragging() }}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          void readFile(event.dataTransfer?.files[0]);
        }}
        id="content"
        name="content"
        rows={8}
        placeholder="Paste the text to summarize…"
        value={content()}
        onInput={(event) => setContent(event.currentTarget.value)}
        required
      />
      <div class="file-row">
        <label class="file-label">
          Choose a file
          <input type="file" accept=".txt,.md,.markdown,text/plain,text/markdown" onChange={(event) => void readFile(event.currentTarget.files?.[0])} />
        </label>
        <Show when={fileName()}>
          <span class="muted small" data-testid="file-name">
            {fileName()}
          </span>
        </Show>
      </div>
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
