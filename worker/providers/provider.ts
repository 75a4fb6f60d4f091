import type { TaskUsage } from '../../schema/src/task.ts';

export interface SummaryRequest {
  content: string;
  /** Aborted on deadline, cancel or shutdown: the provider must stop at once. */
  signal: AbortSignal;
  /** Reports progress in [0, 1]. */
  onProgress(progress: number): void;
}

export interface SummaryResult {
  summary: string;
  usage: TaskUsage | null;
}

/** Something that can summarize text: the embedded summarizer or a remote model. */
export interface SummaryProvider {
  readonly name: string;
  /** Throws a ProviderError, classified into exactly one error class, on failure. */
  summarize(request: SummaryRequest): Promise<SummaryResult>;
}

/** The instruction sent to a chat model. */
export const SUMMARY_SYSTEM_PROMPT =
  'Summarize the text the user sends in 2 to 3 sentences. Write the summary in the same language as the text. ' +
  'Reply with the summary only, without a preamble.';
