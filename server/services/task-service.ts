/**
 * Task use cases, as one service for the resolvers: reading (task-reads.ts), changing
 * (task-commands.ts) and watching (task-feeds.ts). Authorisation by tenant happens in each:
 * another tenant's task answers exactly like a missing one.
 */
import type { Logger } from '../../common/logger.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { TaskRepository } from '../infra/task-repository.ts';
import type { Caller } from '../auth/scopes.ts';
import type { BacklogLimits } from './backlog.ts';
import type { TaskStandings } from './task-standings.ts';
import { createTaskContents } from './task-contents.ts';
import { createTaskCommands, type TaskCommandsOptions } from './task-commands.ts';
import { createTaskFeeds } from './task-feeds.ts';
import { createTaskReads } from './task-reads.ts';

export interface TaskServiceOptions {
  repository: TaskRepository;
  queue: TaskQueueProducer;
  events: TaskEventBus;
  logger: Logger;
  maxRetries: number;
  maxContentBytes: number;
  /** OPENROUTER_ALLOWED_MODELS (null: any well-formed model id). */
  allowedModels?: readonly string[] | null;
  /** MAX_COMPLETION_TOKENS: part of a task's cost to the dispatcher. */
  maxCompletionTokens: number;
  /** While a watch is open, re-read the record this often in case a publish was lost. */
  resyncIntervalMs: number;
  /** Largest page `tasks(first:)` returns. */
  maxPageSize: number;
  /** How far a watch may fall behind when its caller gives no backlog of its own (a connection's). */
  subscriberLimits: BacklogLimits;
  /** Where waiting tasks stand, for watches that show it. */
  standings: TaskStandings;
  /** Bytes of task contents kept for subscriptions that select them (see task-contents.ts). */
  contentCacheBytes: number;
  /** Traces submits (docs/observability.md); absent when tracing is off. */
  tracing?: TaskCommandsOptions['tracing'];
}

export type { Caller };
export type { SubmitTaskInput } from './task-commands.ts';
export { decodeCursor, encodeCursor, type ListTasksInput } from './task-reads.ts';

export type TaskService = ReturnType<typeof createTaskService>;

export function createTaskService(options: TaskServiceOptions) {
  const contents = createTaskContents({ repository: options.repository, maxBytes: options.contentCacheBytes });
  const reads = createTaskReads({ ...options, contents });
  return {
    ...reads,
    ...createTaskCommands({ ...options, reads }),
    ...createTaskFeeds({ ...options, reads, contents }),
  };
}
