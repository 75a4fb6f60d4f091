/**
 * The tasks page's filters, kept in the URL (so a dashboard node can link to "the COMPLETED
 * tasks"): read from the query string, written back on change.
 */
import { navigate } from '../router.ts';
import { isTaskState } from '../task-states.ts';
import { DEFAULT_FILTERS, type TaskFilters } from './create-task-table.ts';

export const CREATED_RANGES: readonly { label: string; minutes: number | null }[] = [
  { label: 'Any time', minutes: null },
  { label: 'Last 15 minutes', minutes: 15 },
  { label: 'Last hour', minutes: 60 },
  { label: 'Last 24 hours', minutes: 1440 },
  { label: 'Last 7 days', minutes: 10080 },
];

export const PAGE_SIZES = [25, 50, 100] as const;

/** The filters a query string names; anything it does not name (or names wrongly) is the default. */
export function filtersFrom(search: string): TaskFilters {
  const params = new URLSearchParams(search);
  const state = params.get('state');
  const since = Number(params.get('since'));
  const size = Number(params.get('size'));
  return {
    state: isTaskState(state) ? state : null,
    sinceMinutes: CREATED_RANGES.some((r) => r.minutes === since && since > 0) ? since : null,
    idPrefix: params.get('id') ?? '',
    order: params.get('order') === 'OLDEST_FIRST' ? 'OLDEST_FIRST' : 'NEWEST_FIRST',
    pageSize: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_FILTERS.pageSize,
  };
}

/** Changes some filters: the URL is replaced (no history entry per change). */
export function setFilter(patch: Partial<TaskFilters>, current: TaskFilters): void {
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
