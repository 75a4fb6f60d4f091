/**
 * A selection of tasks on a page and the bulk actions on it: retry, cancel, delete. Each action
 * applies to the selected tasks whose state allows it, and says how many it changed.
 */
import { useClient } from '@urql/solid';
import { createSignal, type Accessor } from 'solid-js';
import type { TaskState } from '../gql/graphql.ts';
import { CancelTaskMutation, DeleteTaskMutation, RetryTaskMutation } from '../graphql/tasks.ts';
import { errorMessage } from '../format.ts';
import { isCancellable, isRetryable } from '../task-states.ts';

export type BulkAction = 'retry' | 'cancel' | 'delete';

const WORDING: Record<BulkAction, { done: string; cannot: string; allowed: (state: TaskState) => boolean }> = {
  retry: { done: 'Retried', cannot: 'retried', allowed: isRetryable },
  cancel: { done: 'Cancelled', cannot: 'cancelled', allowed: isCancellable },
  delete: { done: 'Deleted', cannot: 'deleted', allowed: () => true },
};

export function createBulkActions(options: { ids: Accessor<string[]>; stateOf: (id: string) => TaskState | undefined }) {
  const client = useClient();
  const [selected, setSelected] = createSignal<ReadonlySet<string>>(new Set());
  const [message, setMessage] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const selectedOnPage = () => options.ids().filter((id) => selected().has(id));

  const toggle = (id: string, on: boolean) =>
    setSelected((set) => {
      const next = new Set(set);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const mutate = (action: BulkAction, id: string) =>
    action === 'retry'
      ? client.mutation(RetryTaskMutation, { id, resetRetryCount: true }).toPromise()
      : action === 'cancel'
        ? client.mutation(CancelTaskMutation, { id }).toPromise()
        : client.mutation(DeleteTaskMutation, { id }).toPromise();

  async function run(action: BulkAction): Promise<void> {
    const wording = WORDING[action];
    const eligible = selectedOnPage().filter((id) => {
      const state = options.stateOf(id);
      return state !== undefined && wording.allowed(state);
    });
    if (eligible.length === 0) {
      setMessage(`None of the selected tasks can be ${wording.cannot}.`);
      return;
    }
    if (action === 'delete' && !window.confirm(`Delete ${eligible.length} task(s) and their history?`)) return;
    setBusy(true);
    const results = await Promise.all(eligible.map((id) => mutate(action, id)));
    setBusy(false);
    const failed = results.filter((result) => result.error);
    setMessage(`${wording.done} ${eligible.length - failed.length} of ${eligible.length}` + (failed[0]?.error ? ` (${errorMessage(failed[0].error)})` : '.'));
    setSelected(new Set<string>());
  }

  return {
    isSelected: (id: string) => selected().has(id),
    selectedCount: () => selectedOnPage().length,
    allSelected: () => options.ids().length > 0 && selectedOnPage().length === options.ids().length,
    toggle,
    toggleAll: (on: boolean) => options.ids().forEach((id) => toggle(id, on)),
    run,
    busy,
    message,
  };
}
