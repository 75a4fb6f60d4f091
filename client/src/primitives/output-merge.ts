/**
 * The reducer behind a task's live output: chunks of the taskOutput subscription applied to
 * the text the page shows. Pure, so the rules are tested without a transport:
 *
 * - a chunk with `reset` replaces the text (a new attempt starts, or the server sends the
 *   whole text again because the final text differs from what was streamed); any other chunk
 *   is appended;
 * - the model writing the text is named on the chunk that starts an attempt (`model`): a new
 *   attempt takes its model (none named: unknown), a reset within the same attempt keeps it, so
 *   a mid-stream switch to another model shows that model as the text starts over;
 * - a cursor is opaque, so chunks cannot be ordered by it: a chunk whose cursor was already
 *   taken in (a replay after a resume, or an overlap on the server) is skipped, and resuming
 *   with `after` keeps replays rare;
 * - attempts only grow (the claim script counts them), so a late chunk of an older attempt
 *   (a worker that lost its lease and is still writing) never lands in a newer attempt's text;
 * - after the final chunk the text is the result: nothing changes it any more.
 */
import type { TaskOutputSubscription, TaskState } from '../gql/graphql.ts';

export type OutputChunk = TaskOutputSubscription['taskOutput'];

export interface TaskOutput {
  /** The task the text belongs to: a chunk of another task changes nothing. */
  taskId: string;
  /** What `attempt` has written so far. */
  text: string;
  /** The attempt whose text this is; null before the first chunk. */
  attempt: number | null;
  /** The model writing `attempt` (its first chunk names it); null when unknown. */
  model: string | null;
  /** The cursor of the last new chunk taken in (applied or skipped as stale). */
  cursor: string | null;
  /** True once the final chunk is in: `text` is the result. */
  final: boolean;
  /** Every cursor taken in this session. */
  seen: ReadonlySet<string>;
}

/** Nothing written yet. */
export const emptyOutput = (taskId: string): TaskOutput => ({ taskId, text: '', attempt: null, model: null, cursor: null, final: false, seen: new Set() });

/**
 * Applies `chunks`, in arrival order, to `output` and returns the new output; returns `output`
 * itself when no chunk was new (so a signal holding it does not notify). Never mutates `output`:
 * the set of seen cursors is copied once per call, which is why callers apply a frame's chunks
 * in one call rather than one call per chunk.
 */
export function applyOutputChunks(output: TaskOutput, chunks: readonly OutputChunk[]): TaskOutput {
  let seen: Set<string> | null = null;
  let { text, attempt, model, cursor, final } = output;
  for (const chunk of chunks) {
    if (chunk.taskId !== output.taskId || (seen ?? output.seen).has(chunk.cursor)) continue;
    seen ??= new Set(output.seen);
    seen.add(chunk.cursor);
    cursor = chunk.cursor;
    if (final || (attempt !== null && chunk.attempt < attempt)) continue;
    // A newer attempt without `reset` means its reset chunk never came (the server promises
    // it does): its text still must not follow the older attempt's, so it starts the text.
    const replaces = chunk.reset || attempt === null || chunk.attempt > attempt;
    text = replaces ? chunk.text : text + chunk.text;
    // Only an attempt's first chunk names its model: a later chunk (or the server's resend of
    // the whole text) keeps the one named; a new attempt that names none is of an unknown model.
    if (chunk.model) model = chunk.model;
    else if (attempt === null || chunk.attempt > attempt) model = null;
    attempt = chunk.attempt;
    final = chunk.final;
  }
  return seen === null ? output : { taskId: output.taskId, text, attempt, model, cursor, final, seen };
}

/**
 * The last `maxChars` characters of `text` on one line (whitespace collapsed), with a leading
 * "…" when cut. Only the end of the text is looked at, so a long output costs nothing; a cut
 * never splits a surrogate pair.
 */
export function outputTail(text: string, maxChars = 80): string {
  const end = text.slice(-maxChars * 2);
  const flat = end.replace(/\s+/g, ' ').trim();
  if (end.length === text.length && flat.length <= maxChars) return flat;
  let tail = flat.slice(-maxChars);
  if (/^[\uDC00-\uDFFF]/.test(tail)) tail = tail.slice(1);
  return `…${tail.trimStart()}`;
}

/**
 * What the page says about the attempt whose text it shows: "attempt 2 writing…" while the
 * task runs it, "attempt 1 failed" once a failure of that attempt is recorded (until the next
 * attempt's first chunk replaces the text), otherwise "attempt 3".
 */
export function attemptLabel(attempt: number, state: TaskState, failedAttempts: readonly number[]): string {
  if (failedAttempts.includes(attempt)) return `attempt ${attempt} failed`;
  if (state === 'ACTIVE') return `attempt ${attempt} writing…`;
  return `attempt ${attempt}`;
}
