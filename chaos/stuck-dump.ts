/**
 * What a failed run prints about a task that never finished (I2): its record's scheduling
 * fields, the job it should have (schema/src/job-ids.ts), and where that job is: in the queue's
 * job hash or not, and in which of waiting, active and delayed (with the time it is due). That
 * tells a lost job from one nobody will deliver (say, a delayed job no worker raises).
 */
import type { Redis } from 'ioredis';
import { expectedJob } from '../schema/src/job-ids.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import type { TaskState } from '../schema/src/task.ts';

const FIELDS = ['state', 'attempt', 'version', 'reopens', 'updatedAt', 'nextAttemptAt', 'leaseExpiresAt', 'workerId'] as const;

/** One line per stuck task id. */
export async function describeStuck(redis: Redis, keys: RedisKeys, ids: readonly string[]): Promise<string[]> {
  const [seconds] = await redis.time();
  const lines = [`--- stuck tasks (Redis time ${new Date(Number(seconds) * 1000).toISOString()})`];
  for (const id of ids) {
    const values = await redis.hmget(keys.task(id), ...FIELDS);
    const task = Object.fromEntries(FIELDS.map((field, i) => [field, values[i] ?? null]));
    const fields = FIELDS.map((field) => `${field}=${field.endsWith('At') && task[field] ? new Date(Number(task[field])).toISOString() : task[field]}`).join(' ');
    const job = expectedJob({
      id,
      state: task.state as TaskState,
      attempt: Number(task.attempt),
      version: Number(task.version),
      reopens: Number(task.reopens ?? 0),
    });
    if (!job) {
      lines.push(`  ${id}: ${fields}; no job expected`);
      continue;
    }
    const hash = await redis.hexists(keys.beeQueueKey(job.queue, 'jobs'), job.jobId);
    const waiting = await redis.lpos(keys.beeQueueKey(job.queue, 'waiting'), job.jobId);
    const active = await redis.lpos(keys.beeQueueKey(job.queue, 'active'), job.jobId);
    const due = await redis.zscore(keys.beeQueueKey(job.queue, 'delayed'), job.jobId);
    const where = [
      waiting !== null ? `waiting[${waiting}]` : '',
      active !== null ? `active[${active}]` : '',
      due !== null ? `delayed (due ${new Date(Number(due)).toISOString()})` : '',
    ].filter(Boolean);
    lines.push(`  ${id}: ${fields}; job ${job.queue}/${job.jobId}: ${hash ? 'stored' : 'not stored'}, ${where.join(', ') || 'in no list'}`);
  }
  return lines;
}
