/**
 * What a budget holds for a task's provider call: the handler of the task's type says what the
 * call sends and may receive (its `estimate`), priced at the dearest model the call may be
 * answered by (OpenRouter's fallback may serve any model the call names). A type with a longer
 * prompt or a larger completion cap holds more; an unknown price holds nothing.
 */
import { toNanoUsd, type ModelPrice } from '../schema/src/usage.ts';
import { costAt } from './providers/usage-estimate.ts';
import type { TaskHandler } from './tasks/task-handler.ts';

/**
 * The hold of one task's call, in nano-dollars, from the handlers by type and the prices of the
 * models the call names (`defaultModel` when it names none).
 */
export function createHoldEstimate<Type extends string>(
  handlers: Record<Type, Pick<TaskHandler, 'estimate'>>,
  priceOf: (model: string) => Promise<ModelPrice | null>,
  defaultModel: string,
) {
  return async (task: { type: Type; content: string }, models: readonly string[] = []): Promise<number> => {
    const { promptTokens, completionTokens } = handlers[task.type].estimate(task.content);
    const prices = await Promise.all((models.length > 0 ? models : [defaultModel]).map(priceOf));
    return Math.max(0, ...prices.map((price) => toNanoUsd(costAt(price, promptTokens, completionTokens))));
  };
}
