/**
 * Output: a task's live output as the scripts write it and every reader parses it, in one place.
 * Scripts: `taskAppendOutput`; the Lua fragment `emit_output`, which the append and the
 * completion (lifecycle.ts) write every chunk with. No I/O here.
 *
 * A chunk is an entry of the task's output stream (`RedisKeys.taskOutput`), fields `t` (text),
 * `f` (flags: `r` reset, `f` final, `-` neither) and, on the chunk that starts an attempt's text,
 * `m` (the model writing it), and a message on the output channel,
 * `<taskId>\n<cursor>\n<flags>[\t<model>]\n<text>` (a model id holds no tab or line break). Its id is its stream entry id, `<attempt>-<n>`: n
 * counts from 1 within an attempt, so ids order across attempts, the next chunk of a feed is
 * known (same attempt, n + 1), and the id doubles as the cursor clients resume after. The first
 * chunk of an attempt is a reset (drop earlier attempts' text). A reset may also come later in
 * an attempt, carrying the whole text, when the result differs from what was streamed.
 */
import type { ScriptChannel } from '../channels.ts';
import { defineTaskScript, replyList, type LuaFragment } from './kit/define.ts';

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
  /** The model writing the attempt, on the chunk that starts its text; null on the others. */
  model: string | null;
}

/** The stream entry's fields. */
const FIELD = { TEXT: 't', FLAGS: 'f', MODEL: 'm' } as const;
/** The flags a chunk carries (`NONE` when neither). */
const FLAG = { RESET: 'r', FINAL: 'f', NONE: '-' } as const;

/**
 * emit_output(task_id, attempt, seq, reset, final, text, model): appends one chunk to the task's
 * output and publishes it on OUTPUT_CHANNEL. An attempt's first chunk trims the chunks of the
 * attempts before it: their text was dropped. `model` (nil or '' for none) is written only on
 * the attempt's first chunk.
 */
export const EMIT_OUTPUT: LuaFragment = {
  lua: `
local function emit_output(task_id, attempt, seq, reset, final, text, model)
  local id = attempt .. '-' .. seq
  local flags = (reset and '${FLAG.RESET}' or '') .. (final and '${FLAG.FINAL}' or '')
  if flags == '' then flags = '${FLAG.NONE}' end
  -- An attempt's first chunk drops the earlier attempts' text; the first attempt has none (ids start at 1-1).
  if seq == 1 and tonumber(attempt) > 1 then redis.call('XTRIM', OUTPUT_KEY, 'MINID', attempt .. '-0') end
  if seq == 1 and model and model ~= '' then
    redis.call('XADD', OUTPUT_KEY, id, '${FIELD.TEXT}', text, '${FIELD.FLAGS}', flags, '${FIELD.MODEL}', model)
    flags = flags .. '\\t' .. model
  else
    redis.call('XADD', OUTPUT_KEY, id, '${FIELD.TEXT}', text, '${FIELD.FLAGS}', flags)
  end
  redis.call('PUBLISH', OUTPUT_CHANNEL, task_id .. '\\n' .. id .. '\\n' .. flags .. '\\n' .. text)
  count('output_chunks')
  count('output_bytes', #text)
end
`,
};

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

function chunkOf(taskId: string, cursor: string, flags: string, text: string, model: string | null): OutputChunk {
  const position = parseOutputCursor(cursor);
  if (!position) throw new Error('malformed output chunk id');
  return { taskId, cursor, attempt: position.attempt, seq: position.seq, text, reset: flags.includes(FLAG.RESET), final: flags.includes(FLAG.FINAL), model: model || null };
}

/**
 * The task id of an output channel message: read first, so a server routes a message nobody
 * watches without parsing it.
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
  // The flags line may carry the model after a tab (a model id may hold the flag letters).
  const flagsLine = message.slice(second + 1, third);
  const tab = flagsLine.indexOf('\t');
  const flags = tab === -1 ? flagsLine : flagsLine.slice(0, tab);
  return chunkOf(message.slice(0, first), message.slice(first + 1, second), flags, message.slice(third + 1), tab === -1 ? null : flagsLine.slice(tab + 1));
}

/** Parses one entry of a task's output stream (XRANGE: id and flat field/value pairs). */
export function parseOutputEntry(taskId: string, id: string, fields: string[]): OutputChunk {
  let text = '';
  let flags: string = FLAG.NONE;
  let model: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === FIELD.TEXT) text = fields[i + 1]!;
    else if (fields[i] === FIELD.FLAGS) flags = fields[i + 1]!;
    else if (fields[i] === FIELD.MODEL) model = fields[i + 1]!;
  }
  return chunkOf(taskId, id, flags, text, model);
}

/** What a list of one attempt's chunks adds up to (a reset starts over). */
export function assembleOutput(chunks: readonly Pick<OutputChunk, 'text' | 'reset'>[]): string {
  let text = '';
  for (const chunk of chunks) text = chunk.reset ? chunk.text : text + chunk.text;
  return text;
}

/**
 * The output channel (schema/src/channels.ts lists it with the others): every chunk of any task,
 * as `emit_output` publishes it; API servers subscribe once and route by `outputMessageTaskId`.
 */
export const outputChannel: ScriptChannel<OutputChunk> = { lua: 'OUTPUT_CHANNEL', name: (keys) => keys.outputChannel(), decode: parseOutputMessage };

/** An output append: written as the attempt's `seq`-th chunk, over the cap (nothing written), or stale. */
export type AppendOutcome =
  | { status: 'ok'; seq: number }
  | { status: 'too_large'; bytes: number }
  /** The stored output is not `expectedBytes` long: nothing was written; `bytes` is its length. */
  | { status: 'moved'; bytes: number }
  | { status: 'stale'; state: string };

/**
 * appendOutput: the lease holder appends text to the attempt's output, under a cap of
 * `maxBytes` per attempt. No version bump and no task event: chunks have their own stream and
 * channel. Reads only the fields it needs (the record can hold 64 KiB of content). `model` (''
 * for none) is the model writing the attempt, kept on its first chunk.
 */
export const appendOutput = defineTaskScript({
  shared: 'record',
  keys: [],
  args: ['leaseToken', 'text', 'expectedBytes', 'maxBytes', 'model'],
  channels: [outputChannel],
  uses: [EMIT_OUTPUT],
  body: `
local f = redis.call('HMGET', TASK_KEY, 'tenant', 'state', 'leaseToken', 'attempt', 'outputSeq', 'outputBytes', 'id')
if not f[1] then return stale('MISSING') end
check_tenant(f[1])
if f[2] ~= 'ACTIVE' or f[3] ~= LEASE_TOKEN then return stale(f[2]) end
local before = tonumber(f[6] or '0')
-- Appends only after what the writer knows it wrote: a resent append (its reply lost in a Redis
-- restart) or one that ran after the writer gave up on it changes nothing the second time.
if before ~= tonumber(EXPECTED_BYTES) then return {'moved', str(before)} end
local bytes = before + #TEXT
if bytes > tonumber(MAX_BYTES) then return {'too_large', str(before)} end
local seq = tonumber(f[5] or '0') + 1
redis.call('HSET', TASK_KEY, 'outputSeq', seq, 'outputBytes', bytes)
emit_output(f[7], f[4], seq, seq == 1, false, TEXT, MODEL)
flush_stats()
return {'ok', str(seq)}
`,
  decode(reply): AppendOutcome {
    const [status, first] = replyList(reply);
    if (status === 'ok') return { status, seq: Number(first) };
    if (status === 'too_large' || status === 'moved') return { status, bytes: Number(first) };
    return { status: 'stale', state: first ?? 'UNKNOWN' };
  },
});
