/**
 * What a budget holds for a task's provider call: the handler of the task's type says what the
 * call sends and may receive (its `estimate`), priced at the model's price. A type with a longer
 * prompt or a larger completion cap holds more; an unknown price holds nothing.
 */
import { toNanoUsd, type ModelPrice } from '../schema/src/usage.ts';
import { costAt } from './providers/usage-estimate.ts';
import type { TaskHandler } from './tasks/task-handler.ts';

/** The hold of one task, in nano-dollars, from the handlers by type and the model's price. */
export function createHoldEstimate<Type extends string>(handlers: Record<Type, Pick<TaskHandler, 'estimate'>>, price: () => Promise<ModelPrice | null>) {
  return async (task: { type: Type; content: string }): Promise<number> => {
    const { promptTokens, completionTokens } = handlers[task.type].estimate(task.content);
    return toNanoUsd(costAt(await price(), promptTokens, completionTokens));
  };
}
