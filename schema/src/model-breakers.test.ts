import { describe, expect, it } from 'vitest';
import {
  bucketMsOf,
  CLOSED_BREAKER,
  decodeModelBreaker,
  effectiveState,
  encodeModelBreaker,
  MODEL_ID_PATTERN,
  modelTotalField,
  parseModelTotalField,
  windowCounts,
} from './model-breakers.ts';

describe('a model breaker as stored', () => {
  it('reads back what is written, and what the scripts write', () => {
    const open = { state: 'OPEN', openedAt: 1000, halfOpenAt: 61_000, probeUntil: null } as const;
    expect(encodeModelBreaker(open)).toBe('OPEN:1000:61000:');
    expect(decodeModelBreaker(encodeModelBreaker(open))).toEqual(open);
    // A forced open has no probe time; a closed breaker, no times at all (the record script's first write).
    expect(decodeModelBreaker('OPEN:1000::')).toEqual({ state: 'OPEN', openedAt: 1000, halfOpenAt: null, probeUntil: null });
    expect(decodeModelBreaker('CLOSED:::')).toEqual(CLOSED_BREAKER);
  });

  it('reads anything unreadable as closed, never as a blocked model', () => {
    for (const value of [undefined, '', 'SHUT:1:2:3', 'open:1:2:3']) expect(decodeModelBreaker(value)).toEqual(CLOSED_BREAKER);
    expect(decodeModelBreaker('OPEN:x:y:z')).toEqual({ state: 'OPEN', openedAt: null, halfOpenAt: null, probeUntil: null });
  });

  it('is shown half-open once its probe time has come, and a forced open stays open', () => {
    const open = { state: 'OPEN', openedAt: 0, halfOpenAt: 500, probeUntil: null } as const;
    expect(effectiveState(open, 499)).toBe('OPEN');
    expect(effectiveState(open, 500)).toBe('HALF_OPEN');
    expect(effectiveState({ ...open, halfOpenAt: null }, 1e12)).toBe('OPEN');
  });
});

describe('the window of a model’s calls', () => {
  it('is counted in tenths, each bucket in it while it started less than a window ago', () => {
    expect(bucketMsOf(60_000)).toBe(6000);
    expect(bucketMsOf(5)).toBe(1);
    const fields = { 'c:0': '3', 'f:0': '2', 'c:6000': '1', 'c:54000': '4', 'f:54000': '4', junk: '9', 'c:x': '1' };
    expect(windowCounts(fields, 59_999, 60_000)).toEqual({ calls: 8, failures: 6 });
    // At 60 s the bucket that started at 0 is a whole window old.
    expect(windowCounts(fields, 60_000, 60_000)).toEqual({ calls: 5, failures: 4 });
    expect(windowCounts(fields, 114_000, 60_000)).toEqual({ calls: 0, failures: 0 });
  });
});

describe('the totals’ fields and model ids', () => {
  it('name the model and the outcome, a model with a tab or colon in it included', () => {
    expect(parseModelTotalField(modelTotalField('vendor/model:free', 'failed'))).toEqual({ model: 'vendor/model:free', outcome: 'failed' });
    expect(parseModelTotalField('vendor/model\tmaybe')).toBeNull();
    expect(parseModelTotalField('ok')).toBeNull();
  });

  it('accepts the ids OpenRouter uses, and nothing that would split a list', () => {
    for (const id of ['openai/gpt-4o-mini', 'meta-llama/llama-3.1-8b-instruct:free', 'openrouter/auto']) expect(MODEL_ID_PATTERN.test(id), id).toBe(true);
    for (const id of ['', 'a,b', 'a b', 'a\nb', '/leading']) expect(MODEL_ID_PATTERN.test(id), id).toBe(false);
  });
});
