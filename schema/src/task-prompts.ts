/**
 * What each task type asks a chat model, and what that is estimated to cost in tokens before
 * it runs: the API server prices a task for the dispatcher at submit (its cost is its prompt
 * plus MAX_COMPLETION_TOKENS), and the worker holds a spend budget for the same figure. A rough
 * rule, the same everywhere: a text is `ceil(UTF-16 length / 4)` tokens (about right for
 * English with GPT-style tokenizers; it undercounts Chinese or Japanese, which a real tokenizer
 * splits per character or two), and a prompt is the sum over its messages. The fake OpenRouter
 * bills by the same rule (tools/fake-openrouter-billing.ts). No I/O here.
 */
import type { TaskType } from './task.ts';

/** One message of a chat, as OpenAI-compatible APIs take it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const CHARS_PER_TOKEN = 4;

/** The estimated token count of a text: ceil(length / 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The estimated prompt tokens of a chat: the sum over its messages. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + estimateTokens(message.content), 0);
}

/** The instruction a summary is asked with. */
export const SUMMARY_SYSTEM_PROMPT =
  'Summarize the text the user sends in 2 to 3 sentences. Write the summary in the same language as the text. ' +
  'Reply with the summary only, without a preamble.';

/** The chat a summary is asked with. */
export const summaryMessages = (content: string): ChatMessage[] => [
  { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
  { role: 'user', content },
];

/** The chat each task type sends for a content. A new type adds its line here (docs/task-types.md). */
export const TASK_PROMPTS: Readonly<Record<TaskType, (content: string) => ChatMessage[]>> = {
  SUMMARIZE: summaryMessages,
};

/** The estimated prompt tokens of a task of `type` on `content`. */
export const estimateTaskPromptTokens = (type: TaskType, content: string): number => estimatePromptTokens(TASK_PROMPTS[type](content));
