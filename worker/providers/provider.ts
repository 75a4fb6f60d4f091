import type { TaskUsage } from '../../schema/src/task.ts';
import type { CallUsage } from '../../schema/src/usage.ts';
import type { ChatMessage } from '../../schema/src/task-prompts.ts';

export type { ChatMessage } from '../../schema/src/task-prompts.ts';

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
  /**
   * What the call cost, reported exactly once for every call that was billed or may have been,
   * before `complete()` resolves or rejects: one that got a 2xx answer (whole, streamed, broken
   * off, or carrying an error), and one cut off (cancel, shutdown, deadline, a dropped
   * connection) after the request may have reached the provider. Not for an HTTP error status
   * (400-599: OpenRouter ran nothing and charges nothing), nor when the provider could not be
   * reached at all (refused, unknown host) or the signal was aborted before the call began.
   * Figures come from the provider when it gave them, else are estimated and flagged so.
   * Must not throw (queue the ledger write; a throw replaces the call's outcome).
   *
   * Optional until the runner passes it through TaskInput; a provider calls it when present.
   */
  onUsage?(usage: CallUsage): void;
  /**
   * The provider's id of this call's generation, as soon as it is known (the answer's headers
   * or first chunk), at most once and before any text: kept with the reservation, it lets
   * another process find out what the call cost if this one dies before `onUsage`
   * (openrouter-usage.ts `reconcileGeneration`). Must not throw.
   */
  onGeneration?(generationId: string): void;
  /**
   * A billed call is about to send its request: awaited before any byte leaves, it writes the
   * call ahead as under way (so a worker that dies from here on still has it reconciled) and
   * resolves with the call's own id, which the request names. A rejection stops the call (it
   * fails without being sent). A provider that bills nothing (embedded, no-op) does not call it.
   */
  onCallStart?(): Promise<string>;
  /**
   * The models to try, in order (the first is the primary; OpenRouter's `models` parameter falls
   * back over the rest before any output). Absent: the provider's own model.
   */
  models?: readonly string[];
  /**
   * The model that answers (the response's `model`), once, as soon as the answer names it and
   * before its first text. Must not throw.
   */
  onModel?(model: string): void;
  /** The completion cap (sent as `max_tokens`); the provider's default when absent. */
  maxTokens?: number;
}

export interface CompletionResult {
  text: string;
  usage: TaskUsage | null;
  /** Why the model stopped (`stop`, `length`, ...), when the provider said (traced: gen_ai.response.finish_reasons). */
  finishReason?: string | null;
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
