/**
 * Changing tasks: submit, and the operator's cancel, retry and delete. Each change is one
 * task script; a cancelled, retried or deleted task's waiting job is withdrawn from its queue.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { expectedJob, jobIds } from '../../schema/src/job-ids.ts';
import { QueueName } from '../../schema/src/redis-keys.ts';
import { TaskState, TaskType, type TaskRecord } from '../../schema/src/task.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { ChangeOutcome, TaskRepository } from '../infra/task-repository.ts';
import type { Caller } from '../auth/scopes.ts';
import { TransitionReason } from '../../schema/src/transition-reasons.ts';
import { periodOf } from '../../schema/src/scripts/budgets.ts';
import { validateContent, validateIdempotencyKey, validateModels } from './content-validation.ts';
import { encodeTaskChain } from '../../schema/src/model-chain.ts';
import { TaskPriority, taskCost } from '../../schema/src/dispatch.ts';
import { estimateTaskPromptTokens } from '../../schema/src/task-prompts.ts';
import { taskNotFound, type TaskReads } from './task-reads.ts';
import type { RequestTrace, ServerTracing } from '../tracing/server-tracing.ts';

export interface TaskCommandsOptions {
  repository: TaskRepository;
  queue: TaskQueueProducer;
  reads: TaskReads;
  logger: Logger;
  maxRetries: number;
  maxContentBytes: number;
  /** MAX_COMPLETION_TOKENS: a task's cost to the dispatcher is its prompt plus this. */
  maxCompletionTokens: number;
  /** Gives each submit its PRODUCER span (docs/observability.md); absent when tracing is off. */
  tracing?: Pick<ServerTracing, 'startSubmit'> | null;
  /** OPENROUTER_ALLOWED_MODELS: the models a submit's own chain may name; null allows any well-formed id. */
  allowedModels?: readonly string[] | null;
}

export interface SubmitTaskInput {
  content: string;
  type?: TaskType | null;
  idempotencyKey?: string | null;
  priority?: TaskPriority | null;
  /** The task's own model chain, tried in order instead of the configured one. */
  models?: readonly string[] | null;
}

export function createTaskCommands(options: TaskCommandsOptions) {
  const { repository, queue, reads, logger } = options;

  /**
   * Accepts a task: validates, stores the PENDING record and queues its job in one step. With an
   * idempotency key a resend returns the first task; the same key with other content
   * is a CONFLICT. Fails with UNAVAILABLE (fast) when Redis cannot be reached.
   */
  async function submit(input: SubmitTaskInput, caller: Caller, requestTrace: RequestTrace | null = null): Promise<TaskRecord> {
    validateContent(input.content, options.maxContentBytes);
    const idempotencyKey = input.idempotencyKey ?? null;
    if (idempotencyKey !== null) validateIdempotencyKey(idempotencyKey);
    const models = input.models ?? null;
    if (models !== null) validateModels(models, options.allowedModels ?? null);

    const id = randomUUID();
    const type = input.type ?? TaskType.SUMMARIZE;
    const span = options.tracing?.startSubmit({ id, tenant: caller.tenant, type }, requestTrace) ?? null;
    // Made when a line is written, which a new task's submit never does: a pino child costs
    // microseconds per binding (the redaction runs on each), every submit, for nothing.
    const log = () => (span ? logger.child(span.logFields) : logger);
    const create = () =>
      repository.create({
        id,
        tenant: caller.tenant,
        apiKeyId: caller.actor,
        type,
        content: input.content,
        priority: input.priority ?? TaskPriority.NORMAL,
        cost: taskCost(estimateTaskPromptTokens(type, input.content), options.maxCompletionTokens),
        maxRetries: options.maxRetries,
        idempotencyKey,
        job: queue.encodeSubmittedJob({ id, tenant: caller.tenant }),
        traceContext: span?.traceContext ?? null,
        chain: models === null ? '' : encodeTaskChain({ models: [...models], index: 0, switchReason: null }),
      });
    let outcome: Awaited<ReturnType<typeof create>>;
    try {
      outcome = await reads.store(create);
    } catch (error) {
      span?.end({ error });
      throw error;
    }
    span?.end(outcome);
    if (outcome.status === 'conflict') {
      throw new AppError(ErrorCode.CONFLICT, 'idempotencyKey was already used with a different request (content, type or models)', {
        details: { taskId: outcome.taskId },
      });
    }
    if (outcome.status === 'budget') {
      const resetsAt = new Date(periodOf(outcome.period, Date.now()).end).toISOString();
      throw new AppError(ErrorCode.BUDGET_EXCEEDED, `the ${outcome.period === 'DAY' ? 'daily' : 'monthly'} budget of this tenant is spent`, {
        details: { period: outcome.period, resetsAt },
      });
    }
    // A new task was queued by the create script itself, in the same step.
    if (outcome.status === 'created') return outcome.record;
    // A resend: the task exists (or was deleted since); a failed read is UNAVAILABLE, not NOT_FOUND.
    const record = await reads.store(() => repository.get(outcome.taskId));
    if (!record) throw taskNotFound(outcome.taskId);
    // Its job may have been lost since (taken out by hand, a Redis without AOF restarted): queue
    // it again; a job with the task's id that still exists makes this a no-op. The task is
    // accepted whatever happens here: a failed enqueue is the sweeper's to repair, and failing
    // the request would invite another resend.
    if (record.state === TaskState.PENDING && record.reopens === 0) {
      await queue.enqueue(record).catch((error: Error) => log().warn({ taskId: record.id, err: error.message }, 'enqueue failed; the sweeper will queue the task'));
    }
    log().debug({ taskId: record.id, status: outcome.status }, 'task submitted');
    return record;
  }

  /** Turns a script's answer into the task after the change, or the error the caller sees. */
  async function afterChange(id: string, outcome: ChangeOutcome, caller: Caller, action: string): Promise<TaskRecord> {
    if (outcome.status === 'missing') throw taskNotFound(id);
    if (outcome.status === 'conflict') {
      throw new AppError(ErrorCode.CONFLICT, `cannot ${action} a task that is ${outcome.state}`, { details: { id, state: outcome.state } });
    }
    return reads.require(id, caller);
  }

  /**
   * Takes the job that was waiting to deliver `before` off its queue, so queue depths count
   * only live work. Best effort: a job left behind finds the task finished and is dropped.
   */
  async function withdrawJob(before: TaskRecord): Promise<void> {
    const job = before.state === TaskState.ACTIVE ? null : expectedJob(before);
    if (!job) return;
    await queue.remove(job.queue, job.jobId).catch((error: Error) => logger.warn({ taskId: before.id, err: error.message }, 'could not withdraw job'));
  }

  /** PENDING or SCHEDULED: cancelled at once. ACTIVE: its provider call is aborted too. */
  async function cancel(id: string, caller: Caller): Promise<TaskRecord> {
    const before = await reads.require(id, caller);
    const outcome = await reads.store(() => repository.cancel(before, caller.actor, TransitionReason.CANCELLED_BY_OPERATOR));
    if (outcome.status === 'ok') await withdrawJob(before);
    return afterChange(id, outcome, caller, 'cancel');
  }

  /** DLQ or CANCELLED back to work through the retry queue; any other state is a CONFLICT. */
  async function retry(id: string, resetRetryCount: boolean, caller: Caller): Promise<TaskRecord> {
    const before = await reads.require(id, caller);
    const outcome = await reads.store(() =>
      repository.reopen(before, caller.actor, { resetRetryCount, reason: resetRetryCount ? TransitionReason.RETRIED_BY_OPERATOR_RESET : TransitionReason.RETRIED_BY_OPERATOR }),
    );
    if (outcome.status === 'ok') await reads.store(() => queue.enqueue(before, QueueName.RETRY, jobIds.reopened(id, outcome.version)));
    return afterChange(id, outcome, caller, 'retry');
  }

  /** Removes the task everywhere; a worker finishing it later does not bring it back. */
  async function remove(id: string, caller: Caller): Promise<boolean> {
    const before = await reads.get(id, caller);
    if (!before) return false;
    const removed = await reads.store(() => repository.remove(id, caller.actor));
    if (removed) await withdrawJob(before);
    return removed;
  }

  return { submit, cancel, retry, remove };
}
