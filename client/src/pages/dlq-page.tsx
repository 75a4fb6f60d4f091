/**
 * The dead letter queue by error class: counts per class, the tasks of a class on demand,
 * a bulk retry per class (fresh retry budget), and a purge that asks for confirmation. The classes
 * come from the server (deadLetterCounts), so a new error class needs no change here.
 * Counts are re-read when the live queue status says the DLQ changed, never on a timer.
 */
import { createMutation, createQuery } from '@urql/solid';
import { createEffect, createMemo, createSignal, For, on, Show, type Accessor } from 'solid-js';
import { StateBadge } from '../components/state-badge.tsx';
import type { ErrorClass } from '../gql/graphql.ts';
import { DeadLetterGroupsQuery, DeadLetterTasksQuery, PurgeDeadLetterQueueMutation, QueueStatusSubscription, RetryDeadLetterTasksMutation } from '../graphql/operations.ts';
import { errorMessage, formatDateTime, shortId } from '../format.ts';
import { createLiveValue } from '../primitives/create-live-value.ts';
import { onLinkClick } from '../router.ts';

function GroupTasks(props: { errorClass: ErrorClass; version: Accessor<unknown> }) {
  const [tasks, refetch] = createQuery({ query: DeadLetterTasksQuery, variables: () => ({ errorClass: props.errorClass, first: 50 }) });
  createEffect(on(props.version, () => refetch(), { defer: true }));
  return (
    <Show when={tasks.data} fallback={<p class="muted">Loading…</p>}>
      {(data) => (
        <ul class="dlq-tasks">
          <For each={data().deadLetterTasks.nodes}>
            {(task) => {
              const last = () => task.errors.at(-1);
              return (
                <li data-task-id={task.id}>
                  <a href={`/tasks/${task.id}`} onClick={onLinkClick} class="mono">
                    {shortId(task.id)}
                  </a>{' '}
                  <StateBadge state={task.state} /> <span class="muted">{formatDateTime(task.updatedAt)}</span>
                  <Show when={last()}>
                    {(error) => (
                      <span>
                        {' '}
                        · <Show when={error().httpStatus !== null}>HTTP {error().httpStatus} · </Show>
                        {error().message}
                      </span>
                    )}
                  </Show>
                </li>
              );
            }}
          </For>
          <Show when={data().deadLetterTasks.totalCount > data().deadLetterTasks.nodes.length}>
            <li class="muted">and {data().deadLetterTasks.totalCount - data().deadLetterTasks.nodes.length} more</li>
          </Show>
        </ul>
      )}
    </Show>
  );
}

export function DeadLetterPage(props: { admin: boolean }) {
  const [groups, refetch] = createQuery({ query: DeadLetterGroupsQuery, pause: () => !props.admin });
  const queue = createLiveValue(QueueStatusSubscription, (data) => data.queueStatusUpdated, { pause: () => !props.admin });
  // The live DLQ size is the signal that a group changed: re-read the counts then.
  const dlqSize = () => queue.value()?.dlq;
  createEffect(on(dlqSize, (size) => size !== undefined && refetch({ requestPolicy: 'network-only' }), { defer: true }));
  const [retryState, retry] = createMutation(RetryDeadLetterTasksMutation);
  const [purgeState, purge] = createMutation(PurgeDeadLetterQueueMutation);
  const [open, setOpen] = createSignal<ReadonlySet<ErrorClass>>(new Set());
  const [confirming, setConfirming] = createSignal(false);
  const [confirmText, setConfirmText] = createSignal('');
  const [message, setMessage] = createSignal<string | null>(null);

  // One row per error class, in the schema's order: the page lists whatever classes the server has.
  const counts = createMemo(() => new Map((groups.data?.deadLetterCounts ?? []).map((row) => [row.errorClass, row.count])));
  const count = (errorClass: ErrorClass) => counts().get(errorClass) ?? 0;
  const nonEmpty = () => [...counts()].filter(([, n]) => n > 0).map(([errorClass]) => errorClass);
  const totalCount = () => groups.data?.all.totalCount ?? 0;

  const retryGroup = async (errorClass: ErrorClass) => {
    const result = await retry({ errorClass });
    setMessage(result.error ? errorMessage(result.error) : `${result.data?.retryDeadLetterTasks ?? 0} ${errorClass} task(s) sent back to work.`);
  };
  const doPurge = async () => {
    const result = await purge({});
    setConfirming(false);
    setConfirmText('');
    setMessage(result.error ? errorMessage(result.error) : `${result.data?.purgeDeadLetterQueue ?? 0} task(s) deleted.`);
  };

  return (
    <section class="card" aria-labelledby="dlq-heading">
      <div class="card-head">
        <h2 id="dlq-heading">Dead letter queue</h2>
        <span class="muted" data-testid="dlq-total">
          {totalCount()} {totalCount() === 1 ? 'task' : 'tasks'}
        </span>
      </div>
      <Show when={props.admin} fallback={<p class="muted">The dead letter queue needs a key with the admin scope.</p>}>
        <Show when={message()}>
          <p role="status" class="notice">
            {message()}
          </p>
        </Show>
        <Show when={groups.error}>
          <p class="error" role="alert">
            {errorMessage(groups.error!)}
          </p>
        </Show>
        <Show when={groups.data} fallback={<p class="muted">Loading…</p>}>
          <Show when={nonEmpty().length > 0} fallback={<p class="muted">The dead letter queue is empty.</p>}>
            <ul class="dlq-groups">
              <For each={nonEmpty()}>
                {(errorClass) => (
                  <li class="dlq-group" data-error-class={errorClass}>
                    <div class="dlq-group-head">
                      <button
                        type="button"
                        class="link"
                        aria-expanded={open().has(errorClass)}
                        onClick={() =>
                          setOpen((set) => {
                            const next = new Set(set);
                            if (next.has(errorClass)) next.delete(errorClass);
                            else next.add(errorClass);
                            return next;
                          })
                        }
                      >
                        {open().has(errorClass) ? '▾' : '▸'} <strong>{errorClass}</strong>
                      </button>
                      <span class="count" data-testid={`dlq-count-${errorClass}`}>
                        {count(errorClass)}
                      </span>
                      <button type="button" disabled={retryState.fetching} onClick={() => void retryGroup(errorClass)} data-testid={`dlq-retry-${errorClass}`}>
                        Retry {count(errorClass)}
                      </button>
                    </div>
                    <Show when={open().has(errorClass)}>
                      <GroupTasks errorClass={errorClass} version={dlqSize} />
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </Show>
        <div class="purge">
          <Show
            when={confirming()}
            fallback={
              <button type="button" class="danger" disabled={totalCount() === 0} onClick={() => setConfirming(true)}>
                Purge the dead letter queue…
              </button>
            }
          >
            <form
              class="confirm"
              role="alertdialog"
              aria-labelledby="purge-heading"
              onSubmit={(event) => {
                event.preventDefault();
                if (confirmText() === 'PURGE') void doPurge();
              }}
            >
              <p id="purge-heading">
                This deletes all {totalCount()} tasks in the dead letter queue, with their history. It cannot be undone. Type <strong>PURGE</strong> to
                confirm.
              </p>
              <input aria-label="Type PURGE to confirm" value={confirmText()} onInput={(e) => setConfirmText(e.currentTarget.value)} autofocus />
              <div class="actions">
                <button type="submit" class="danger" disabled={confirmText() !== 'PURGE' || purgeState.fetching}>
                  Delete {totalCount()} tasks
                </button>
                <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                  Keep them
                </button>
              </div>
            </form>
          </Show>
        </div>
      </Show>
    </section>
  );
}
