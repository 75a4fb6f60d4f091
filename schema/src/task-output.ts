/**
 * A task's output as it crosses processes: the chunks the worker appends to the task's output
 * stream (`RedisKeys.taskOutput`) and publishes on the output channel, and the cursors clients
 * resume from. No I/O here.
 *
 * A chunk's id is its stream entry id, `<attempt>-<n>`: n counts from 1 within an attempt, so
 * ids order across attempts and the next chunk of a feed is known (same attempt, n + 1). The
 * first chunk of an attempt is a reset (drop earlier attempts' text). A reset may also come
 * later in an attempt, carrying the whole text, when the result differs from what was streamed.
 */

export interface OutputChunk {
  taskId: string;
  /** The stream entry id; also the cursor a client resumes after. */
  cursor: string;
  attempt: number;
  /** Position within the attempt, from 1. */
  seq: number;
  text: string;
  reset: boolean;
  final: boolean;
}

/** Stream entry flags: `r` reset, `f` final, `-` neither. */
export function outputFlags(reset: boolean, final: boolean): string {
  return `${reset ? 'r' : ''}${final ? 'f' : ''}` || '-';
}

const CURSOR = /^(\d{1,9})-(\d{1,9})$/;

/** The attempt and position a cursor names, or null when it is not one this API hands out. */
export function parseOutputCursor(cursor: string): { attempt: number; seq: number } | null {
  const match = CURSOR.exec(cursor);
  return match ? { attempt: Number(match[1]), seq: Number(match[2]) } : null;
}

/** Whether chunk id `a` comes after `b` (both valid cursors). */
export function isAfter(a: { attempt: number; seq: number }, b: { attempt: number; seq: number }): boolean {
  return a.attempt > b.attempt || (a.attempt === b.attempt && a.seq > b.seq);
}

function chunkOf(taskId: string, cursor: string, flags: string, text: string): OutputChunk {
  const position = parseOutputCursor(cursor);
  if (!position) throw new Error('malformed output chunk id');
  return { taskId, cursor, attempt: position.attempt, seq: position.seq, text, reset: flags.includes('r'), final: flags.includes('f') };
}

/**
 * The task id of an output channel message, `<taskId>\n<cursor>\n<flags>\n<text>` (written by
 * the task scripts): read first, so a server routes a message nobody watches without parsing it.
 */
export function outputMessageTaskId(message: string): string {
  const end = message.indexOf('\n');
  return end === -1 ? '' : message.slice(0, end);
}

/** Parses an output channel message. Throws when malformed. */
export function parseOutputMessage(message: string): OutputChunk {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  const third = message.indexOf('\n', second + 1);
  if (first <= 0 || second === -1 || third === -1) throw new Error('malformed output message');
  return chunkOf(message.slice(0, first), message.slice(first + 1, second), message.slice(second + 1, third), message.slice(third + 1));
}

/** Parses one entry of a task's output stream (XRANGE: id and flat field/value pairs). */
export function parseOutputEntry(taskId: string, id: string, fields: string[]): OutputChunk {
  let text = '';
  let flags = '-';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 't') text = fields[i + 1]!;
    else if (fields[i] === 'f') flags = fields[i + 1]!;
  }
  return chunkOf(taskId, id, flags, text);
}

/** What a list of one attempt's chunks adds up to (a reset starts over). */
export function assembleOutput(chunks: readonly Pick<OutputChunk, 'text' | 'reset'>[]): string {
  let text = '';
  for (const chunk of chunks) text = chunk.reset ? chunk.text : text + chunk.text;
  return text;
}
