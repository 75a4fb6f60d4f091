/**
 * The live output invariant (issue 15): for every streaming task that COMPLETED, every
 * subscriber's assembled text equals the task's `result` byte for byte, after the final chunk;
 * no subscriber saw the same cursor twice, or a chunk after the final one; a task that did not
 * complete showed nobody a final chunk; and every follower finished. A broken task is dumped in
 * full (its record, the chunks each follower saw, its output stream in Redis, the log lines
 * that name it), since that is what a bug report needs.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { OutputFollow } from './output-follows.ts';

/** How a task ended, as its record says. */
export interface TaskEnd {
  state: string | null;
  result: string | null;
  attempt?: string | null;
}

/** What a broken task is reported with: its id, the details, and when it lived (epoch ms, from its events). */
export type OutputDump = (taskId: string, details: string, lived: { from: number; to: number }) => void;

/** Problems of each follower, one line each; calls `dump` with the details of every broken task. */
export async function checkOutputs(redis: Redis, keys: RedisKeys, follows: readonly OutputFollow[], dump: OutputDump): Promise<string[]> {
  const problems: string[] = [];
  const byTask = new Map<string, OutputFollow[]>();
  for (const follow of follows) byTask.set(follow.taskId, [...(byTask.get(follow.taskId) ?? []), follow]);
  for (const [taskId, followers] of byTask) {
    const [state, result, attempt] = await redis.hmget(keys.task(taskId), 'state', 'result', 'attempt');
    const task: TaskEnd = { state: state ?? null, result: result ?? null, attempt: attempt ?? null };
    const found = followers.flatMap((follow) => outputProblems(follow, task));
    if (found.length === 0) continue;
    problems.push(...found);
    const events = await redis.xrange(keys.taskEvents(taskId), '-', '+').catch(() => []);
    const times = events.map(([, fields]) => Number(fields[fields.indexOf('at') + 1]));
    const lived = { from: Math.min(...times, Date.now()), to: Math.max(...times, 0) };
    dump(taskId, await details(redis, keys, taskId, task, followers, events), lived);
  }
  return problems;
}

/** What is wrong with what `follow` saw of a task that ended as `task` says, one line each (none: all is well). */
export function outputProblems(follow: OutputFollow, task: TaskEnd): string[] {
  const who = `output: subscriber ${follow.subscriber}${follow.late ? ' (late)' : ''} of ${follow.taskId} (${task.state ?? 'missing'})`;
  const problems: string[] = [];
  if (follow.repeated.length > 0) problems.push(`${who} saw cursor ${[...new Set(follow.repeated)].join(', ')} twice`);
  if (follow.afterFinal > 0) problems.push(`${who} got ${follow.afterFinal} chunk(s) after the final one`);
  if (follow.end === null || follow.end === 'gave up') problems.push(`${who} never reached the end of its feed (${follow.resubscribes} re-subscriptions)`);
  if (task.state === 'COMPLETED') {
    if (!follow.sawFinal) problems.push(`${who} got no final chunk`);
    else if (follow.text !== task.result) problems.push(`${who}: ${describeDifference(follow.text, task.result ?? '')}`);
  } else if (follow.sawFinal) problems.push(`${who} got a final chunk, but the task has no result`);
  return problems;
}

/** Where two texts part, in UTF-8 bytes. */
export function describeDifference(text: string, result: string): string {
  const a = Buffer.from(text, 'utf8');
  const b = Buffer.from(result, 'utf8');
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at += 1;
  const around = (bytes: Buffer) => JSON.stringify(bytes.subarray(Math.max(0, at - 12), at + 12).toString('utf8'));
  return `text of ${a.length} bytes is not the result of ${b.length} bytes; they part at byte ${at}: ${around(a)} vs ${around(b)}`;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 23);

async function details(
  redis: Redis,
  keys: RedisKeys,
  taskId: string,
  task: TaskEnd,
  followers: readonly OutputFollow[],
  events: [string, string[]][],
): Promise<string> {
  const lines = [`--- output of ${taskId}: ${task.state} attempt ${task.attempt}; result ${JSON.stringify(task.result)}`];
  for (const follow of followers) {
    lines.push(
      `  subscriber ${follow.subscriber}${follow.late ? ' (late)' : ''}: end ${follow.end}, resumes ${follow.resumes}, re-subscriptions ${follow.resubscribes}; text ${JSON.stringify(follow.text)}`,
    );
    for (const chunk of follow.chunks) {
      lines.push(`    ${time(chunk.at)} ${chunk.cursor} a${chunk.attempt}${chunk.reset ? ' reset' : ''}${chunk.final ? ' final' : ''} ${JSON.stringify(chunk.text)}`);
    }
  }
  const stored = await redis.xrange(keys.taskOutput(taskId), '-', '+').catch((error: Error) => error);
  if (stored instanceof Error) lines.push(`  stream: unreadable (${stored.message})`);
  else {
    lines.push(`  stream ${keys.taskOutput(taskId)}: ${stored.length} entries`);
    for (const [id, fields] of stored) lines.push(`    ${id} ${JSON.stringify(fields)}`);
  }
  for (const [id, flat] of events) {
    const field = (name: string) => flat[flat.indexOf(name) + 1] ?? '';
    lines.push(`  event ${id} ${time(Number(field('at')))} v${field('version')} ${field('kind')} ${field('state')} ${field('workerId')} ${field('reason')}`);
  }
  return lines.join('\n');
}
