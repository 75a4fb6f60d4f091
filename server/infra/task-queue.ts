/**
 * The producer side of the bee-queue queues: puts a task's job on the primary queue and
 * reads queue depths. The job carries only the task id; the record is the source of truth.
 */
import { createBeeQueue, encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { beeQueueRedisOptions, type RedisEndpoint } from '../../common/redis-connection.ts';
import { QueueName, type RedisKeys } from '../../schema/src/redis-keys.ts';
import type { TaskJobData } from '../../schema/src/task.ts';

/** The task a job delivers. */
export interface QueuedTask {
  id: string;
  tenant: string;
}

export interface TaskQueueProducerOptions {
  endpoint: RedisEndpoint;
  keys: RedisKeys;
  /** bee-queue job timeout; the worker's own provider deadline is shorter. */
  jobTimeoutMs: number;
  /** Give up on an enqueue after this long (Redis unreachable). */
  enqueueTimeoutMs: number;
  /** Told when Redis had lost bee-queue's scripts (restart, failover) and they were reloaded. */
  onScriptReload?: (script: string) => void;
}

export interface QueueDepths {
  primary: number;
  retry: number;
}

export type TaskQueueProducer = ReturnType<typeof createTaskQueueProducer>;

export function createTaskQueueProducer(options: TaskQueueProducerOptions) {
  const settings = {
    prefix: options.keys.beeQueuePrefix(),
    // Producers neither process jobs nor listen for their events: one connection each.
    isWorker: false,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    // Without this node_redis queues commands while Redis is down and a submit would hang,
    // then enqueue minutes later: fail now, visibly.
    redis: { ...beeQueueRedisOptions(options.endpoint), enable_offline_queue: false },
  };
  const scriptOptions = { ...(options.onScriptReload ? { onScriptReload: options.onScriptReload } : {}) };
  const queues = {
    [QueueName.PRIMARY]: createBeeQueue<TaskJobData>(QueueName.PRIMARY, settings, scriptOptions),
    [QueueName.RETRY]: createBeeQueue<TaskJobData>(QueueName.RETRY, settings, scriptOptions),
  };
  const listeners = new Set<(error: Error) => void>();
  for (const queue of Object.values(queues)) {
    queue.on('error', (error) => listeners.forEach((listener) => listener(error)));
  }

  /**
   * Queues the task's job on `queueName`. The job id defaults to the task id (retries pass
   * their own), so a repeated enqueue of the same job is a no-op. The job names the task's
   * tenant (its claim then needs no lookup). Rejects after `enqueueTimeoutMs`.
   */
  async function enqueue(task: QueuedTask, queueName: QueueName = QueueName.PRIMARY, jobId: string = task.id): Promise<void> {
    const job = queues[queueName]
      .createJob({ taskId: task.id, tenant: task.tenant })
      .setId(jobId)
      .timeout(options.jobTimeoutMs);
    await withTimeout(job.save(), options.enqueueTimeoutMs, 'enqueue timed out');
  }

  /** A new task's job on the primary queue, encoded for the create script to queue with the record. */
  function encodeSubmittedJob(task: QueuedTask): string {
    // `queued`: the create script puts the task in its line in the same step (docs/dispatch.md).
    return encodeBeeQueueJob<TaskJobData>({ taskId: task.id, tenant: task.tenant, queued: true }, { timeoutMs: options.jobTimeoutMs });
  }

  /** Removes a job from its queue (waiting, delayed or active); a no-op when there is none. */
  async function remove(queueName: QueueName, jobId: string): Promise<void> {
    await withTimeout(queues[queueName].removeJob(jobId), options.enqueueTimeoutMs, 'job removal timed out');
  }

  async function depths(): Promise<QueueDepths> {
    const [primary, retry] = await Promise.all([
      queues.primary.checkHealth(),
      queues.retry.checkHealth(),
    ]);
    return { primary: primary.waiting, retry: retry.waiting };
  }

  return {
    enqueue,
    encodeSubmittedJob,
    remove,
    depths,
    ready: () => Promise.all(Object.values(queues).map((queue) => queue.ready())),
    onError: (listener: (error: Error) => void) => void listeners.add(listener),
    close: async () => {
      await Promise.all(Object.values(queues).map((queue) => queue.close(1000).catch(() => undefined)));
    },
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
