import { createMutation } from '@urql/solid';
import { createSignal, For, Show } from 'solid-js';
import { priorityLabel, TASK_PRIORITIES } from '../dispatch-labels.ts';
import { errorMessage, formatMinute } from '../format.ts';
import type { TaskPriority } from '../gql/graphql.ts';
import { SubmitTaskMutation } from '../graphql/tasks.ts';
import type { TaskSummary } from '../primitives/create-recent-tasks.ts';
import { Countdown } from './countdown.tsx';

/** A submit refused because the tenant's budget is spent: which one, and when it starts over. */
export interface BudgetRefusal {
  /** DAY or MONTH ('' when the server did not say). */
  period: string;
  resetsAt: string | null;
}

/** The BUDGET_EXCEEDED answer in a failed submit (`extensions.details`), or null for any other failure. */
export function budgetRefusalOf(error: { graphQLErrors: readonly { extensions?: Record<string, unknown> }[] }): BudgetRefusal | null {
  const extensions = error.graphQLErrors.find((e) => e.extensions?.code === 'BUDGET_EXCEEDED')?.extensions;
  if (!extensions) return null;
  const details = (extensions.details ?? {}) as { period?: unknown; resetsAt?: unknown };
  return {
    period: typeof details.period === 'string' ? details.period : '',
    resetsAt: typeof details.resetsAt === 'string' && !Number.isNaN(Date.parse(details.resetsAt)) ? details.resetsAt : null,
  };
}

const PERIOD_NAME: Record<string, string> = { DAY: 'daily', MONTH: 'monthly' };

/** What the form says when the budget is spent: nothing was stored, and when to try again. */
function BudgetRefused(props: { refusal: BudgetRefusal }) {
  return (
    <div class="error budget-refused" role="alert" data-testid="budget-exceeded">
      <strong>Budget reached: the task was not submitted.</strong> This tenant's{' '}
      {PERIOD_NAME[props.refusal.period] ? `${PERIOD_NAME[props.refusal.period]} ` : ''}budget is spent; tasks already queued wait for it.{' '}
      <Show when={props.refusal.resetsAt} fallback="An admin can raise the limit.">
        {(at) => (
          <>
            It resets <time datetime={at()}>{formatMinute(at())}</time> (<Countdown at={at()} />), or sooner if an admin raises the limit.
          </>
        )}
      </Show>
    </div>
  );
}

/**
 * Paste text, choose a priority (NORMAL unless changed: it moves the task within its own
 * tenant's line only), submit, and hand the accepted task to the list at once.
 */
export function SubmitForm(props: { onSubmitted: (task: TaskSummary) => void }) {
  const [content, setContent] = createSignal('');
  const [idempotencyKey, setIdempotencyKey] = createSignal('');
  // Kept after a submit: an operator sending a batch of urgent tasks chooses once.
  const [priority, setPriority] = createSignal<TaskPriority>('NORMAL');
  const [error, setError] = createSignal<string | null>(null);
  const [refusal, setRefusal] = createSignal<BudgetRefusal | null>(null);
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
    setRefusal(null);
    const key = idempotencyKey().trim();
    const result = await submit({ input: { content: content(), priority: priority(), ...(key ? { idempotencyKey: key } : {}) } });
    if (result.error) {
      // The text stays in the box, to send again once the budget allows.
      const refused = budgetRefusalOf(result.error);
      if (refused) setRefusal(refused);
      else setError(errorMessage(result.error));
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
      <div class="priority-row">
        <span class="field-label" id="priority-label">
          Priority
        </span>
        <div class="segmented" role="radiogroup" aria-labelledby="priority-label">
          <For each={TASK_PRIORITIES}>
            {(choice) => (
              <button
                type="button"
                role="radio"
                aria-checked={priority() === choice}
                classList={{ selected: priority() === choice }}
                onClick={() => setPriority(choice)}
              >
                {priorityLabel(choice)}
              </button>
            )}
          </For>
        </div>
        <span class="muted small">within this tenant's line</span>
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
      <Show when={refusal()}>{(refused) => <BudgetRefused refusal={refused()} />}</Show>
    </form>
  );
}
