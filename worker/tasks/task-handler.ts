/**
 * What a task type is to the worker: a handler that turns a task's content into its result.
 * The runner gives it the content, a logger, an AbortSignal, and two reporters (progress and
 * output text); it never sees bee-queue or Redis. One file per type in this folder, registered
 * by type in worker.ts (see docs/task-types.md).
 */
import type { Logger } from '../../common/logger.ts';
import type { TaskUsage } from '../../schema/src/task.ts';
import type { CallUsage } from '../../schema/src/usage.ts';

export interface TaskInput {
  taskId: string;
  content: string;
  attempt: number;
  signal: AbortSignal;
  logger: Logger;
  onProgress(progress: number): void;
  /** The result as it is written, piece by piece (streamed to watchers); may be left uncalled. */
  onText(delta: string): void;
  /** What each provider call cost, once per call that was billed or may have been. */
  onUsage(usage: CallUsage): void;
  /** A provider call's generation id, as soon as the provider names it (before its usage). */
  onGeneration(generationId: string): void;
}

export interface TaskOutput {
  result: string;
  usage: TaskUsage | null;
}

export type TaskHandler = (input: TaskInput) => Promise<TaskOutput>;
