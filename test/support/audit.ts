/**
 * The loss audit: checks the invariants of docs/reliability.md ("What nothing lost means") that
 * the task engine owns, for a set of accepted task ids, and returns every broken one as a readable line.
 */
import type { Redis } from 'ioredis';
import { taskIdOfJob } from '../../schema/src/job-ids.ts';
import { MODEL_SWITCH_TRANSITION } from '../../schema/src/model-chain.ts';
import { QueueName, type RedisKeys } from '../../schema/src/redis-keys.ts';
import { ERROR_CLASSES, parseTaskHash, TASK_STATES, TERMINAL_STATES, type TaskState } from '../../schema/src/task.ts';
import { waitFor } from './wait-for.ts';

export interface AuditOptions {
  /** Provider calls seen per task id (from the fake provider), for the attempt budget (I5). */
  providerCalls?: Map<string, number>;
  /**
   * The tenant each accepted task must belong to (I1): one for all, or per task id (a task
   * missing from the map is not checked).
   */
  tenant?: string | ReadonlyMap<string, string>;
}

export async function audit(redis: Redis, keys: RedisKeys, accepted: readonly string[], options: AuditOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const states = new Map<string, TaskState>();

  for (const id of accepted) {
    const fields = await redis.hgetall(keys.task(id));
    if (Object.keys(fields).length === 0) {
      problems.push(`I1 missing: ${id} has no record`);
      continue;
    }
    const task = parseTaskHash(fields);
    states.set(id, task.state);
    const tenant = typeof options.tenant === 'string' ? options.tenant : options.tenant?.get(id);
    if (tenant !== undefined && task.tenant !== tenant) problems.push(`I1 tenant: ${id} belongs to ${task.tenant}, not ${tenant}`);
    if (!TERMINAL_STATES.has(task.state)) problems.push(`I2 stuck: ${id} is ${task.state}`);

    // Read leniently: a malformed entry is itself something to report, not a crash.
    const events = (await redis.xrange(keys.taskEvents(id), '-', '+')).map(([, flat]) => {
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
      return { version: Number(fields.get('version')), state: (fields.get('state') ?? '') as TaskState, reason: fields.get('reason') };
    });
    const versions = events.map((event) => event.version);
    if (versions.some((version, i) => version !== i + 1) || versions.at(-1) !== task.version) {
      problems.push(`I3 versions: ${id} has events ${versions.join(',')} for version ${task.version}`);
    }
    const reopened = task.reopens;
    const terminal = events.filter((event) => TERMINAL_STATES.has(event.state)).length;
    if (terminal !== reopened + 1) problems.push(`I4 terminal events: ${id} has ${terminal} for ${reopened} operator retries`);
    if (task.state === 'COMPLETED' && !task.result) problems.push(`I4 result: ${id} is COMPLETED without a result`);

    // Each provider call starts a counted attempt or follows a move on in the model chain that
    // counts no retry (issue 22: a switch counts as a retry only once the whole chain has failed).
    const calls = options.providerCalls?.get(id);
    const switches = events.filter((event) => event.reason === MODEL_SWITCH_TRANSITION).length;
    const budget = (task.maxRetries + 1) * (reopened + 1) + switches;
    if (calls !== undefined && calls > budget) problems.push(`I5 over budget: ${id} had ${calls} provider calls, budget ${budget}`);
  }

  // Each task sits in exactly the state index of its state.
  for (const state of TASK_STATES) {
    for (const id of await redis.zrange(keys.tasksInState(state), 0, -1)) {
      const actual = (await redis.hget(keys.task(id), 'state')) as TaskState | null;
      if (actual !== state) problems.push(`index: ${id} is in the ${state} index but is ${actual ?? 'missing'}`);
    }
  }
  // Retention covers exactly the finished tasks.
  const finished = new Set(await redis.zrange(keys.tasksFinished(), 0, -1));
  for (const state of ['COMPLETED', 'CANCELLED'] as const) {
    for (const id of await redis.zrange(keys.tasksInState(state), 0, -1)) {
      if (!finished.has(id)) problems.push(`retention: ${state} task ${id} is not in the finished index`);
      finished.delete(id);
    }
  }
  for (const id of finished) problems.push(`retention: ${id} is in the finished index but not finished`);

  // I7: the DLQ listing (by class) is the set of DLQ tasks.
  const dlq = new Set(await redis.zrange(keys.tasksInState('DLQ'), 0, -1));
  const byClass = new Set<string>();
  for (const errorClass of ERROR_CLASSES) for (const id of await redis.zrange(keys.deadLetterByClass(errorClass), 0, -1)) byClass.add(id);
  for (const id of dlq) if (!byClass.has(id)) problems.push(`I7 DLQ: ${id} is in the DLQ but in no class listing`);
  for (const id of byClass) if (!dlq.has(id)) problems.push(`I7 DLQ: ${id} is listed under a class but not in the DLQ`);

  // I6: no queued job without a live task.
  for (const queue of [QueueName.PRIMARY, QueueName.RETRY]) {
    const waiting = await redis.lrange(keys.beeQueueKey(queue, 'waiting'), 0, -1);
    const active = await redis.lrange(keys.beeQueueKey(queue, 'active'), 0, -1);
    const delayed = await redis.zrange(keys.beeQueueKey(queue, 'delayed'), 0, -1);
    const located = [
      ...waiting.map((jobId) => ({ jobId, list: 'waiting' })),
      ...active.map((jobId) => ({ jobId, list: 'active' })),
      ...delayed.map((jobId) => ({ jobId, list: 'delayed' })),
    ];
    for (const { jobId, list } of located) {
      const taskId = taskIdOfJob(jobId);
      const state = (await redis.hget(keys.task(taskId), 'state')) as TaskState | null;
      if (!state || TERMINAL_STATES.has(state)) problems.push(`I6 orphan job: ${queue} job ${jobId} (${list}) for a ${state ?? 'missing'} task`);
    }
  }
  return problems;
}

export interface ExpectCleanAuditOptions {
  /** Re-read before each audit (provider calls keep arriving while tasks settle). */
  providerCalls?: () => Map<string, number>;
  timeoutMs?: number;
  /** Extra context for the failure message (recent worker logs, say). */
  context?: () => string;
}

/**
 * Waits until the audit comes out clean (jobs and events settle asynchronously), or fails
 * listing every problem the last audit found.
 */
export async function expectCleanAudit(redis: Redis, keys: RedisKeys, ids: readonly string[], options: ExpectCleanAuditOptions = {}): Promise<void> {
  let problems: string[] = [];
  try {
    await waitFor(async () => {
      problems = await audit(redis, keys, ids, { providerCalls: options.providerCalls?.() });
      return problems.length === 0;
    }, { timeoutMs: options.timeoutMs ?? 15_000, intervalMs: 200, message: 'a clean audit' });
  } catch (error) {
    // No problem list: the audit itself kept failing (waitFor's error says how).
    if (problems.length === 0) throw error;
    const context = options.context ? `\n${options.context()}` : '';
    throw new Error(`audit found ${problems.length} problems:\n  ${problems.slice(0, 40).join('\n  ')}${context}`);
  }
}
