/**
 * What a task type is to the worker: a handler that turns a task's content into its result, and
 * says beforehand what that will ask the provider for (a budget holds that much per attempt).
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
  /**
   * A billed provider call is about to send its request: resolves (with the call's own id) once
   * the call is written ahead as under way; a call must not go before, nor when it rejects.
   */
  onCallStart(): Promise<string>;
  /** The models to try, in order (worker/model-chain.ts); absent: the provider's own. */
  models?: readonly string[];
  /** The model that answers, as soon as the answer names it (before its text). */
  onModel?(model: string): void;
}

export interface TaskOutput {
  result: string;
  usage: TaskUsage | null;
}

/** What one attempt's provider call sends and may receive at most, in tokens, before it runs. */
export interface CallEstimate {
  /** The prompt it sends, estimated as providers/usage-estimate.ts does. */
  promptTokens: number;
  /** The completion cap it asks for. */
  completionTokens: number;
}

export interface TaskHandler {
  run(input: TaskInput): Promise<TaskOutput>;
  /** What an attempt on `content` will cost in tokens at most: what its budget hold is priced from. */
  estimate(content: string): CallEstimate;
}
