import { describe, expect, it } from 'vitest';
import { AnswerCollector } from './openrouter-answer.ts';
import { callUsageFromGeneration } from './openrouter-usage.ts';

describe("the answering model an OpenRouter answer names", () => {
  it('is kept when it is a model id', () => {
    const collector = new AnswerCollector(200, () => undefined);
    collector.take({ id: 'gen-1', model: 'acme/fallback-2' });
    expect(collector.model).toBe('acme/fallback-2');
  });

  it('is ignored when it holds a separator the output frames or ledger fields use, or is not a string', () => {
    const collector = new AnswerCollector(200, () => undefined);
    collector.take({ id: 'gen-1', model: 'acme/first' });
    for (const model of ['acme/x\nflags', 'acme/x\ty', '', ' acme/x', 'a'.repeat(201), 42 as unknown as string]) {
      collector.take({ id: 'gen-1', model });
      expect(collector.model).toBe('acme/first');
    }
    expect(callUsageFromGeneration({ total_cost: 0.001, model: 'bad\nmodel' }, 'acme/sent', 'gen-1')?.model).toBe('acme/sent');
    expect(callUsageFromGeneration({ total_cost: 0.001, model: 'acme/served' }, 'acme/sent', 'gen-1')?.model).toBe('acme/served');
  });
});
