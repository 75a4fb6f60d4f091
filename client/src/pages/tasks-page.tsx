/**
 * The tasks table: filters (state, type, time range), id search, order, cursor pagination,
 * rows that change live, and bulk retry / cancel / delete on a selection. The filters live
 * in the URL (primitives/task-filters.ts), so a dashboard node can link to "the COMPLETED tasks".
 */
import { createMemo, Show } from 'solid-js';
import { TaskFiltersForm } from '../components/task-filters-form.tsx';
import { TaskTable } from '../components/task-table.tsx';
import { createBulkActions } from '../primitives/create-bulk-actions.ts';
import { createTaskTable } from '../primitives/create-task-table.ts';
import { filtersFrom } from '../primitives/task-filters.ts';
import { currentSearch } from '../router.ts';

export function TasksPage(props: { canWrite: boolean }) {
  const filters = createMemo(() => filtersFrom(currentSearch()), undefined, {
    equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  });
  const table = createTaskTable({ filters });
  const bulk = createBulkActions({ ids: table.ids, stateOf: (id) => table.row(id)?.state });
  const nothingSelected = () => bulk.busy() || bulk.selectedCount() === 0;

  return (
    <section class="card" aria-labelledby="tasks-heading">
      <div class="card-head">
        <h2 id="tasks-heading">Tasks</h2>
        <span class="muted" data-testid="tasks-total">
          {table.total() ?? '…'} {table.total() === 1 ? 'task' : 'tasks'}
        </span>
      </div>
      <TaskFiltersForm filters={filters()} />

      <Show when={props.canWrite}>
        <div class="actions bulk" role="group" aria-label="Bulk actions">
          <span class="muted">{bulk.selectedCount()} selected</span>
          <button type="button" disabled={nothingSelected()} onClick={() => void bulk.run('retry')}>
            Retry selected
          </button>
          <button type="button" class="secondary" disabled={nothingSelected()} onClick={() => void bulk.run('cancel')}>
            Cancel selected
          </button>
          <button type="button" class="danger" disabled={nothingSelected()} onClick={() => void bulk.run('delete')}>
            Delete selected
          </button>
          <Show when={bulk.message()}>
            <span role="status">{bulk.message()}</span>
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
          <TaskTable ids={table.ids()} row={table.row} standing={table.standing} selection={props.canWrite ? bulk : null} />
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
