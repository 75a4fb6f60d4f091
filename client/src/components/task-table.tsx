/**
 * A page of tasks as a table: live rows, a link to each task, where each waiting task stands,
 * and columns that sort the rows on this page (creation order comes from the server). With
 * `selection`, a checkbox per row and one for the page.
 */
import { createMemo, createSignal, For, Show } from 'solid-js';
import type { TaskState } from '../gql/graphql.ts';
import { formatDateTime, shortId } from '../format.ts';
import type { TaskSummary } from '../primitives/create-live-tasks.ts';
import type { ListStanding } from '../primitives/create-standings.ts';
import { onLinkClick } from '../router.ts';
import { TASK_STATES } from '../task-states.ts';
import { ProgressBar } from './progress-bar.tsx';
import { StateBadge } from './state-badge.tsx';
import { PriorityTag, StandingNote } from './task-standing.tsx';

type SortKey = 'state' | 'progress' | 'retries' | 'updated';
const SORT_VALUE: Record<SortKey, (task: { state: TaskState; progress: number; retryCount: number; updatedAt: string }) => string | number> = {
  state: (task) => TASK_STATES.indexOf(task.state),
  progress: (task) => task.progress,
  retries: (task) => task.retryCount,
  updated: (task) => task.updatedAt,
};

export interface TableSelection {
  isSelected(id: string): boolean;
  allSelected(): boolean;
  toggle(id: string, on: boolean): void;
  toggleAll(on: boolean): void;
}

export function TaskTable(props: {
  ids: string[];
  row: (id: string) => TaskSummary | undefined;
  /** Where a waiting task stands, shown beside its state. */
  standing?: (id: string) => ListStanding | undefined;
  selection: TableSelection | null;
}) {
  const [sort, setSort] = createSignal<{ key: SortKey; descending: boolean } | null>(null);
  const rows = createMemo(() => {
    const by = sort();
    if (!by) return props.ids;
    const value = (id: string) => SORT_VALUE[by.key](props.row(id)!);
    return [...props.ids].sort((a, b) => {
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

  return (
    <div class="table-scroll">
      <table class="data-table task-table" data-testid="tasks-table">
        <thead>
          <tr>
            <Show when={props.selection}>
              {(selection) => (
                <th scope="col" class="select-col">
                  <input type="checkbox" aria-label="Select every task on this page" checked={selection().allSelected()} onChange={(e) => selection().toggleAll(e.currentTarget.checked)} />
                </th>
              )}
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
              const task = () => props.row(id)!;
              return (
                <Show when={props.row(id)}>
                  <tr data-task-id={id} data-state={task().state}>
                    <Show when={props.selection}>
                      {(selection) => (
                        <td class="select-col">
                          <input type="checkbox" aria-label={`Select task ${shortId(id)}`} checked={selection().isSelected(id)} onChange={(e) => selection().toggle(id, e.currentTarget.checked)} />
                        </td>
                      )}
                    </Show>
                    <td>
                      <a href={`/tasks/${id}`} onClick={onLinkClick} class="mono">
                        {shortId(id)}
                      </a>{' '}
                      <PriorityTag priority={task().priority} />
                    </td>
                    <td>
                      <StateBadge state={task().state} /> <StandingNote standing={props.standing?.(id)} />
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
  );
}
