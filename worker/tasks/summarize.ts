/** The SUMMARIZE task: text in, a 2-3 sentence summary out, through the configured provider. */
import type { Logger } from '../../common/logger.ts';
import type { TaskUsage } from '../../schema/src/task.ts';
import type { SummaryProvider } from '../providers/provider.ts';

export interface TaskInput {
  taskId: string;
  content: string;
  attempt: number;
  signal: AbortSignal;
  logger: Logger;
  onProgress(progress: number): void;
}

export interface TaskOutput {
  result: string;
  usage: TaskUsage | null;
}

export type TaskHandler = (input: TaskInput) => Promise<TaskOutput>;

export function createSummarizeHandler(provider: SummaryProvider): TaskHandler {
  return async (input) => {
    const { summary, usage } = await provider.summarize({
      content: input.content,
      signal: input.signal,
      onProgress: input.onProgress,
    });
    input.logger.debug({ provider: provider.name, chars: summary.length }, 'summary ready');
    return { result: summary, usage };
  };
}
