/** The SUMMARIZE task: text in, a 2-3 sentence summary out, through the configured provider. */
import { estimatePromptTokens, summaryMessages } from '../../schema/src/task-prompts.ts';
import type { TextProvider } from '../providers/provider.ts';
import type { TaskHandler } from './task-handler.ts';

// The prompt lives in schema/src/task-prompts.ts: the API server prices a task from it too.
export { SUMMARY_SYSTEM_PROMPT, summaryMessages } from '../../schema/src/task-prompts.ts';

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
        ...(input.models ? { models: input.models } : {}),
        ...(input.onModel ? { onModel: input.onModel } : {}),
        ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}),
      });
      input.logger.debug({ provider: provider.name, chars: text.length }, 'summary ready');
      return { result: text, usage };
    },
  };
}
