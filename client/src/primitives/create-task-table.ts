/**
 * The tasks table: one page from the `tasks` query (filters, order, cursor pagination), then
 * live: rows on the page change as their tasks do (batched per frame, highest version wins),
 * deleted rows go, and on the first page of a newest-first listing new matching tasks appear
 * on top. The total is re-read after changes (at most once a second); after a reconnect the
 * page is read again once the live feed says it is live again. Nothing is re-read on a timer.
 * Where the page's waiting tasks stand comes live beside the rows (create-standings.ts).
 */
import { createQuery } from '@urql/solid';
import { batch, createEffect, createMemo, createSignal, on, onCleanup, untrack, type Accessor } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { TaskOrder, TaskState } from '../gql/graphql.ts';
import { TasksPageQuery } from '../graphql/tasks.ts';
import { mayWait } from '../dispatch-labels.ts';
import { createLiveTasks, type TaskSummary } from './create-live-tasks.ts';
import { createStandings, type ListStanding } from './create-standings.ts';
import type { FrameScheduler } from './frame-batcher.ts';
import { reduceTaskChanges, type TaskChange } from './task-merge.ts';

export interface TaskFilters {
  state: TaskState | null;
  /** Only tasks created within this many minutes; null for any time. */
  sinceMinutes: number | null;
  idPrefix: string;
  order: TaskOrder;
  pageSize: number;
}

export const DEFAULT_FILTERS: TaskFilters = { state: null, sinceMinutes: null, idPrefix: '', order: 'NEWEST_FIRST', pageSize: 25 };

/** Whether a task (new to the page) belongs in a listing with these filters. */
export function matchesFilters(task: TaskSummary, filters: TaskFilters, createdAfterMs: number | null): boolean {
  if (filters.state && task.state !== filters.state) return false;
  if (filters.idPrefix && !task.id.startsWith(filters.idPrefix)) return false;
  if (createdAfterMs !== null && new Date(task.createdAt).getTime() < createdAfterMs) return false;
  return true;
}

export function createTaskTable(options: {
  filters: Accessor<TaskFilters>;
  schedule?: FrameScheduler;
  /** Smallest gap between two re-reads of the total. */
  recountMs?: number;
}) {
  const [cursors, setCursors] = createSignal<(string | null)[]>([null]);
  const pageIndex = () => cursors().length - 1;
  // The time filter is fixed when the filters are chosen, so one page keeps one meaning.
  const createdAfterMs = createMemo(() => {
    const minutes = options.filters().sinceMinutes;
    return minutes === null ? null : Date.now() - minutes * 60_000;
  });
  const variables = createMemo(() => {
    const filters = options.filters();
    const after = createdAfterMs();
    return {
      first: filters.pageSize,
      after: cursors().at(-1) ?? null,
      state: filters.state,
      createdAfter: after === null ? null : new Date(after).toISOString(),
      idPrefix: filters.idPrefix.trim() || null,
      order: filters.order,
    };
  });

  const [page, refetch] = createQuery({ query: TasksPageQuery, variables });
  const [rows, setRows] = createStore<Record<string, TaskSummary | undefined>>({});
  const [order, setOrder] = createSignal<string[]>([]);
  const [total, setTotal] = createSignal<number | null>(null);
  // New filters start from the first page, with no total until theirs is read.
  createEffect(
    on(
      options.filters,
      () =>
        batch(() => {
          setCursors([null]);
          setTotal(null);
        }),
      { defer: true },
    ),
  );

  // A page read can be older than what the live feed already brought (it was sent before a
  // change, or before a task was submitted): a row keeps its newer version, and a task that came
  // live on top of a newest-first first page since stays on top.
  createEffect(() => {
    const data = page.data?.tasks;
    if (!data) return;
    // Read (and so tracked) here: urql reconciles a new answer into the same objects.
    const nodes = data.nodes.map((task) => ({ ...task }));
    const totalCount = data.totalCount;
    untrack(() => {
      const filters = options.filters();
      const fresh = nodes.map((task) => {
        const current = rows[task.id];
        return current && current.version > task.version ? current : task;
      });
      const inPage = new Set(fresh.map((task) => task.id));
      const newest = nodes[0]?.createdAt ?? '';
      const onTop = pageIndex() === 0 && filters.order === 'NEWEST_FIRST';
      const keptOnTop = onTop
        ? order()
            .map((id) => rows[id])
            .filter((task): task is TaskSummary => task !== undefined && !inPage.has(task.id) && task.createdAt > newest && matchesFilters(task, filters, createdAfterMs()))
        : [];
      batch(() => {
        setRows(reconcile(Object.fromEntries([...keptOnTop, ...fresh].map((task) => [task.id, task]))));
        setOrder([...keptOnTop, ...fresh].map((task) => task.id).slice(0, filters.pageSize));
        setTotal(totalCount);
      });
    });
  });

  let recountTimer: ReturnType<typeof setTimeout> | null = null;
  const scheduleRecount = () => {
    recountTimer ??= setTimeout(() => {
      recountTimer = null;
      refetchTotal();
    }, options.recountMs ?? 1000);
  };
  onCleanup(() => recountTimer && clearTimeout(recountTimer));
  // The total alone, by the same query (urql sends it; the rows stay as they are).
  const [countQuery, recount] = createQuery({ query: TasksPageQuery, variables: () => ({ ...variables(), first: 0, after: null }), pause: true });
  const refetchTotal = () => recount({ requestPolicy: 'network-only' });
  createEffect(() => {
    const count = countQuery.data?.tasks.totalCount;
    if (count !== undefined) setTotal(count);
  });

  const apply = (changes: TaskChange<TaskSummary>[]) => {
    const { updated, deleted } = reduceTaskChanges((id) => rows[id], changes);
    const filters = options.filters();
    const onTop = pageIndex() === 0 && filters.order === 'NEWEST_FIRST';
    const added: TaskSummary[] = [];
    batch(() => {
      for (const id of deleted) if (rows[id]) setRows(id, undefined);
      for (const [id, task] of updated) {
        if (rows[id]) setRows(id, reconcile(task));
        else if (onTop && task.version === 1 && matchesFilters(task, filters, createdAfterMs())) added.push(task);
      }
      if (added.length > 0) {
        added.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
        for (const task of added) setRows(task.id, task);
        setOrder((ids) => [...added.map((task) => task.id), ...ids].slice(0, filters.pageSize));
      }
      if (deleted.size > 0) setOrder((ids) => ids.filter((id) => !deleted.has(id)));
    });
    if (updated.size > 0 || deleted.size > 0) scheduleRecount();
  };
  // After a reconnect the resubscribed feed says when it is live: read the page then, so a
  // change made while the page was away (tasksUpdated has no snapshot) is not missed.
  createLiveTasks({ onBatch: apply, onLive: () => refetch(), schedule: options.schedule });

  const visible = createMemo(() => order().filter((id) => rows[id] !== undefined));
  const standings = createStandings({ rows: () => visible().map((id) => ({ id, state: rows[id]!.state })), schedule: options.schedule });
  return {
    /** Ids on the page in listing order; read a row with `row(id)` (fine-grained). */
    ids: visible,
    row: (id: string) => rows[id],
    /** Where a waiting task on the page stands; undefined for one that does not wait. */
    standing: (id: string): ListStanding | undefined => (rows[id] && mayWait(rows[id].state) ? standings.standing(id) : undefined),
    total,
    pageIndex,
    hasNext: () => page.data?.tasks.pageInfo.hasNextPage ?? false,
    next: () => {
      const end = page.data?.tasks.pageInfo.endCursor;
      if (end) setCursors((list) => [...list, end]);
    },
    previous: () => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)),
    loading: () => page.fetching && !page.data,
    error: () => page.error?.message ?? null,
    refetch: () => refetch(),
  };
}
