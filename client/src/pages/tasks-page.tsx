/**
 * The tasks table: filters (state, type, time range), id search, order, cursor pagination,
 * rows that change live, and bulk retry / cancel / delete on a selection. The filters live
 * in the URL, so a dashboard node can link to "the COMPLETED tasks".
 */
import { useClient } from '@urql/solid';
import { createMemo, createSignal, For, Show } from 'solid-js';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import type { TaskOrder, TaskState } from '../gql/graphql.ts';
import { CancelTaskMutation, DeleteTaskMutation, RetryTaskMutation } from '../graphql/documents.ts';
import { errorMessage, formatDateTime, shortId } from '../format.ts';
import { createTaskTable, DEFAULT_FILTERS, type TaskFilters } from '../primitives/create-task-table.ts';
import { currentSearch, navigate, onLinkClick } from '../router.ts';
import { isCancellable, isRetryable, isTaskState, TASK_STATES } from '../task-states.ts';

const RANGES: { label: string; minutes: number | null }[] = [
  { label: 'Any time', minutes: null },
  { label: 'Last 15 minutes', minutes: 15 },
  { label: 'Last hour', minutes: 60 },
  { label: 'Last 24 hours', minutes: 1440 },
  { label: 'Last 7 days', minutes: 10080 },
];
type SortKey = 'state' | 'progress' | 'retries' | 'updated';
const SORT_VALUE: Record<SortKey, (task: { state: TaskState; progress: number; retryCount: number; updatedAt: string }) => string | number> = {
  state: (task) => TASK_STATES.indexOf(task.state),
  progress: (task) => task.progress,
  retries: (task) => task.retryCount,
  updated: (task) => task.updatedAt,
};

function filtersFrom(search: string): TaskFilters {
  const params = new URLSearchParams(search);
  const state = params.get('state');
  const since = Number(params.get('since'));
  const size = Number(params.get('size'));
  return {
    state: isTaskState(state) ? state : null,
    sinceMinutes: RANGES.some((r) => r.minutes === since && since > 0) ? since : null,
    idPrefix: params.get('id') ?? '',
    order: params.get('order') === 'OLDEST_FIRST' ? 'OLDEST_FIRST' : 'NEWEST_FIRST',
    pageSize: [25, 50, 100].includes(size) ? size : DEFAULT_FILTERS.pageSize,
  };
}

function setFilter(patch: Partial<TaskFilters>, current: TaskFilters): void {
  const next = { ...current, ...patch };
  const params = new URLSearchParams();
  if (next.state) params.set('state', next.state);
  if (next.sinceMinutes) params.set('since', String(next.sinceMinutes));
  if (next.idPrefix) params.set('id', next.idPrefix);
  if (next.order !== 'NEWEST_FIRST') params.set('order', next.order);
  if (next.pageSize !== DEFAULT_FILTERS.pageSize) params.set('size', String(next.pageSize));
  const query = params.toString();
  navigate(`/tasks${query ? `?${query}` : ''}`, { replace: true });
}

export function TasksPage(props: { canWrite: boolean }) {
  const filters = createMemo(() => filtersFrom(currentSearch()), undefined, {
    equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  });
  const table = createTaskTable({ filters });
  // Creation order comes from the server (Order); the other columns sort the rows on this page.
  const [sort, setSort] = createSignal<{ key: SortKey; descending: boolean } | null>(null);
  const rows = createMemo(() => {
    const by = sort();
    const ids = table.ids();
    if (!by) return ids;
    const value = (id: string) => SORT_VALUE[by.key](table.row(id)!);
    return [...ids].sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      return (x < y ? -1 : x > y ? 1 : 0) * (by.descending ? -1 : 1);
    });
  });
  const SortHeader = (header: { key: SortKey; label: string }) => (
    <th scope="col" aria-sort={sort()?.key === header.key ? (sort()!.descending ? 'descending' : 'ascending') : 'none'}>
      <button
        type="button"
        class="sort"
        title="Sort the rows on this page"
        onClick={() => setSort((current) => (current?.key !== header.key ? { key: header.key, descending: false } : current.descending ? null : { key: header.key, descending: true }))}
      >
        {header.label}
        <span aria-hidden="true">{sort()?.key === header.key ? (sort()!.descending ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );
  const client = useClient();
  const [selected, setSelected] = createSignal<ReadonlySet<string>>(new Set());
  const [bulkMessage, setBulkMessage] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const selectedOnPage = () => table.ids().filter((id) => selected().has(id));
  const allSelected = () => table.ids().length > 0 && selectedOnPage().length === table.ids().length;

  const toggle = (id: string, on: boolean) =>
    setSelected((set) => {
      const next = new Set(set);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const bulk = async (action: 'retry' | 'cancel' | 'delete') => {
    const eligible = selectedOnPage().filter((id) => {
      const state = table.row(id)?.state;
      if (!state) return false;
      return action === 'retry' ? isRetryable(state) : action === 'cancel' ? isCancellable(state) : true;
    });
    if (eligible.length === 0) {
      setBulkMessage(`None of the selected tasks can be ${action === 'retry' ? 'retried' : action === 'cancel' ? 'cancelled' : 'deleted'}.`);
      return;
    }
    if (action === 'delete' && !window.confirm(`Delete ${eligible.length} task(s) and their history?`)) return;
    setBusy(true);
    const results = await Promise.all(
      eligible.map((id) =>
        action === 'retry'
          ? client.mutation(RetryTaskMutation, { id, resetRetryCount: true }).toPromise()
          : action === 'cancel'
            ? client.mutation(CancelTaskMutation, { id }).toPromise()
            : client.mutation(DeleteTaskMutation, { id }).toPromise(),
      ),
    );
    setBusy(false);
    const failed = results.filter((result) => result.error);
    setBulkMessage(
      `${action === 'retry' ? 'Retried' : action === 'cancel' ? 'Cancelled' : 'Deleted'} ${eligible.length - failed.length} of ${eligible.length}` +
        (failed[0]?.error ? ` (${errorMessage(failed[0].error)})` : '.'),
    );
    setSelected(new Set<string>());
  };

  return (
    <section class="card" aria-labelledby="tasks-heading">
      <div class="card-head">
        <h2 id="tasks-heading">Tasks</h2>
        <span class="muted" data-testid="tasks-total">
          {table.total() ?? '…'} {table.total() === 1 ? 'task' : 'tasks'}
        </span>
      </div>
      <form class="filters" role="search" aria-label="Filter tasks" onSubmit={(event) => event.preventDefault()}>
        <label>
          State
          <select name="state" value={filters().state ?? ''} onChange={(e) => setFilter({ state: (e.currentTarget.value || null) as TaskState | null }, filters())}>
            <option value="">Any state</option>
            <For each={TASK_STATES}>{(state) => <option value={state}>{state}</option>}</For>
          </select>
        </label>
        <label>
          Type
          <select name="type" disabled>
            <option>SUMMARIZE</option>
          </select>
        </label>
        <label>
          Created
          <select name="since" value={String(filters().sinceMinutes ?? '')} onChange={(e) => setFilter({ sinceMinutes: Number(e.currentTarget.value) || null }, filters())}>
            <For each={RANGES}>{(range) => <option value={range.minutes ?? ''}>{range.label}</option>}</For>
          </select>
        </label>
        <label>
          Order
          <select name="order" value={filters().order} onChange={(e) => setFilter({ order: e.currentTarget.value as TaskOrder }, filters())}>
            <option value="NEWEST_FIRST">Newest first</option>
            <option value="OLDEST_FIRST">Oldest first</option>
          </select>
        </label>
        <label>
          Per page
          <select name="size" value={String(filters().pageSize)} onChange={(e) => setFilter({ pageSize: Number(e.currentTarget.value) }, filters())}>
            <option value="25">25</option>
            <option value="50">50</option>
            <option value="100">100</option>
          </select>
        </label>
        <label class="grow">
          Id starts with
          <input
            type="search"
            name="id"
            placeholder="e.g. 3f2a9c"
            value={filters().idPrefix}
            onChange={(e) => setFilter({ idPrefix: e.currentTarget.value.trim() }, filters())}
          />
        </label>
      </form>

      <Show when={props.canWrite}>
        <div class="actions bulk" role="group" aria-label="Bulk actions">
          <span class="muted">{selectedOnPage().length} selected</span>
          <button type="button" disabled={busy() || selectedOnPage().length === 0} onClick={() => void bulk('retry')}>
            Retry selected
          </button>
          <button type="button" class="secondary" disabled={busy() || selectedOnPage().length === 0} onClick={() => void bulk('cancel')}>
            Cancel selected
          </button>
          <button type="button" class="danger" disabled={busy() || selectedOnPage().length === 0} onClick={() => void bulk('delete')}>
            Delete selected
          </button>
          <Show when={bulkMessage()}>
            <span role="status">{bulkMessage()}</span>
          </Show>
        </div>
      </Show>

      <Show when={table.error()}>
        <p class="error" role="alert">
          {table.error()}
        </p>
      </Show>
      <Show when={!table.loading()} fallback={<p class="muted">Loading…</p>}>
        <Show when={table.ids().length > 0} fallback={<p class="muted">No tasks match.</p>}>
          <div class="table-scroll">
            <table class="data-table task-table" data-testid="tasks-table">
              <thead>
                <tr>
                  <Show when={props.canWrite}>
                    <th scope="col" class="select-col">
                      <input type="checkbox" aria-label="Select every task on this page" checked={allSelected()} onChange={(e) => table.ids().forEach((id) => toggle(id, e.currentTarget.checked))} />
                    </th>
                  </Show>
                  <th scope="col">Task</th>
                  <SortHeader key="state" label="State" />
                  <SortHeader key="progress" label="Progress" />
                  <SortHeader key="retries" label="Retries" />
                  <th scope="col">Created</th>
                  <SortHeader key="updated" label="Updated" />
                </tr>
              </thead>
              <tbody>
                <For each={rows()}>
                  {(id) => {
                    const task = () => table.row(id)!;
                    return (
                      <Show when={table.row(id)}>
                        <tr data-task-id={id} data-state={task().state}>
                          <Show when={props.canWrite}>
                            <td class="select-col">
                              <input type="checkbox" aria-label={`Select task ${shortId(id)}`} checked={selected().has(id)} onChange={(e) => toggle(id, e.currentTarget.checked)} />
                            </td>
                          </Show>
                          <td>
                            <a href={`/tasks/${id}`} onClick={onLinkClick} class="mono">
                              {shortId(id)}
                            </a>
                          </td>
                          <td>
                            <StateBadge state={task().state} />
                          </td>
                          <td>
                            <ProgressBar progress={task().progress} label={`progress of task ${shortId(id)}`} />
                          </td>
                          <td>
                            {task().retryCount}/{task().maxRetries}
                          </td>
                          <td>{formatDateTime(task().createdAt)}</td>
                          <td>{formatDateTime(task().updatedAt)}</td>
                        </tr>
                      </Show>
                    );
                  }}
                </For>
              </tbody>
            </table>
          </div>
        </Show>
      </Show>
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={table.pageIndex() === 0} onClick={() => table.previous()}>
          ← Previous
        </button>
        <span class="muted">Page {table.pageIndex() + 1}</span>
        <button type="button" class="secondary" disabled={!table.hasNext()} onClick={() => table.next()}>
          Next →
        </button>
      </nav>
    </section>
  );
}
