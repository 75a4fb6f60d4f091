import type { TaskUsage } from '../../schema/src/task.ts';

/** One message of a chat, as OpenAI-compatible APIs take it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: readonly ChatMessage[];
  /** Aborted on deadline, cancel or shutdown: the provider must stop at once. */
  signal: AbortSignal;
  /** Reports progress in [0, 1]. */
  onProgress(progress: number): void;
  /**
   * Each piece of the answer as it is written, in order. What they add up to, trimmed, is the
   * answer's `text` (a provider may send leading and trailing whitespace it then trims).
   */
  onText(delta: string): void;
}

export interface CompletionResult {
  text: string;
  usage: TaskUsage | null;
}

/** Something that answers a chat: the embedded summarizer, a remote model, or the bench's no-op. */
export interface TextProvider {
  readonly name: string;
  /** Throws a ProviderError, classified into exactly one error class, on failure. */
  complete(request: CompletionRequest): Promise<CompletionResult>;
}

/** The text of the last user message: what a provider that reads no instructions works on. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i]!.role === 'user') return messages[i]!.content;
  return '';
}
