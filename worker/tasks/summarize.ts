/** The SUMMARIZE task: text in, a 2-3 sentence summary out, through the configured provider. */
import type { ChatMessage, TextProvider } from '../providers/provider.ts';
import { estimatePromptTokens } from '../providers/usage-estimate.ts';
import type { TaskHandler } from './task-handler.ts';

/** The instruction sent to a chat model. */
export const SUMMARY_SYSTEM_PROMPT =
  'Summarize the text the user sends in 2 to 3 sentences. Write the summary in the same language as the text. ' +
  'Reply with the summary only, without a preamble.';

/** The chat a summary is asked with. */
export const summaryMessages = (content: string): ChatMessage[] => [
  { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
  { role: 'user', content },
];

/** `maxTokens` caps the answer (and so what a budget holds for the call). */
export function createSummarizeHandler(provider: TextProvider, options: { maxTokens: number }): TaskHandler {
  return {
    estimate: (content) => ({ promptTokens: estimatePromptTokens(summaryMessages(content)), completionTokens: options.maxTokens }),
    async run(input) {
      const { text, usage } = await provider.complete({
        messages: summaryMessages(input.content),
        signal: input.signal,
        onProgress: input.onProgress,
        onText: input.onText,
        onUsage: input.onUsage,
        onGeneration: input.onGeneration,
        onCallStart: input.onCallStart,
        ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}),
      });
      input.logger.debug({ provider: provider.name, chars: text.length }, 'summary ready');
      return { result: text, usage };
    },
  };
}
