/** Display helpers. */

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "Dec 1, 12:00 AM": an instant to the minute, for resets and other times far off. */
export function formatMinute(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatDuration(fromIso: string | null | undefined, toIso: string | null | undefined): string {
  if (!fromIso || !toIso) return '—';
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** "4 s", "3 min 5 s", "2 h 10 min": a span for ages and countdowns. */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** What to show for a failed operation: the server's own message when it sent one. */
export function errorMessage(error: { graphQLErrors: readonly { message: string }[]; message: string }): string {
  return error.graphQLErrors[0]?.message ?? error.message;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function percent(progress: number): string {
  return `${Math.round(progress * 100)}%`;
}

/** A trace viewer's URL for a task: TRACE_URL_TEMPLATE with `{traceId}` and `{taskId}` filled in. */
export function traceUrlOf(template: string, ids: { traceId: string; taskId: string }): string {
  return template.replaceAll('{traceId}', encodeURIComponent(ids.traceId)).replaceAll('{taskId}', encodeURIComponent(ids.taskId));
}
