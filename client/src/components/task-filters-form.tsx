/** The tasks page's filter bar: state, type, creation time, order, page size and id search. */
import { For } from 'solid-js';
import type { TaskOrder, TaskState } from '../gql/graphql.ts';
import type { TaskFilters } from '../primitives/create-task-table.ts';
import { CREATED_RANGES, PAGE_SIZES, setFilter } from '../primitives/task-filters.ts';
import { TASK_STATES } from '../task-states.ts';

export function TaskFiltersForm(props: { filters: TaskFilters }) {
  const change = (patch: Partial<TaskFilters>) => setFilter(patch, props.filters);
  return (
    <form class="filters" role="search" aria-label="Filter tasks" onSubmit={(event) => event.preventDefault()}>
      <label>
        State
        <select name="state" value={props.filters.state ?? ''} onChange={(e) => change({ state: (e.currentTarget.value || null) as TaskState | null })}>
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
        <select name="since" value={String(props.filters.sinceMinutes ?? '')} onChange={(e) => change({ sinceMinutes: Number(e.currentTarget.value) || null })}>
          <For each={CREATED_RANGES}>{(range) => <option value={range.minutes ?? ''}>{range.label}</option>}</For>
        </select>
      </label>
      <label>
        Order
        <select name="order" value={props.filters.order} onChange={(e) => change({ order: e.currentTarget.value as TaskOrder })}>
          <option value="NEWEST_FIRST">Newest first</option>
          <option value="OLDEST_FIRST">Oldest first</option>
        </select>
      </label>
      <label>
        Per page
        <select name="size" value={String(props.filters.pageSize)} onChange={(e) => change({ pageSize: Number(e.currentTarget.value) })}>
          <For each={PAGE_SIZES}>{(size) => <option value={String(size)}>{size}</option>}</For>
        </select>
      </label>
      <label class="grow">
        Id starts with
        <input type="search" name="id" placeholder="e.g. 3f2a9c" value={props.filters.idPrefix} onChange={(e) => change({ idPrefix: e.currentTarget.value.trim() })} />
      </label>
    </form>
  );
}
