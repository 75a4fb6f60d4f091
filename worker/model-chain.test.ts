import { describe, expect, it } from 'vitest';
import { ProviderError } from '../schema/src/errors.ts';
import { START_OF_CHAIN } from '../schema/src/model-chain.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { attemptChain, chainIndexOf, isContextLengthError, nextStep } from './model-chain.ts';

const CHAIN = ['a', 'b', 'c'];
const broken = new ProviderError(ErrorClass.PROVIDER_ERROR, 'the answer broke off', { httpStatus: 200 });
const tooLong = new ProviderError(ErrorClass.PERMANENT, "This endpoint's maximum context length is 10 tokens.", { httpStatus: 400 });
const filtered = new ProviderError(ErrorClass.CONTENT_FILTER, 'flagged by the content filter', { httpStatus: 403 });
const at = (index: number) => attemptChain({ ...START_OF_CHAIN, index }, CHAIN, 'safe');

describe('attemptChain', () => {
  it('starts at the task place and wraps round to the models before it', () => {
    expect(at(0).candidates).toEqual(['a', 'b', 'c']);
    expect(at(2).candidates).toEqual(['c', 'a', 'b']);
  });

  it("runs the task's own chain, and the content-filter fallback past its end (the chain from its start without one)", () => {
    expect(attemptChain({ models: ['x', 'y'], index: 1, switchReason: null }, CHAIN, null).candidates).toEqual(['y', 'x']);
    expect(at(3).candidates).toEqual(['safe']);
    expect(attemptChain({ ...START_OF_CHAIN, index: 3 }, CHAIN, null)).toMatchObject({ start: 0, candidates: CHAIN });
    expect(chainIndexOf(at(3), 'safe')).toBe(3);
    expect(chainIndexOf(at(0), 'dated-variant')).toBeNull();
  });
});

describe('nextStep', () => {
  const failed = (start: number, error: unknown, answeredModel: string | null, outputBegan = true) => ({ error, attempt: at(start), answeredModel, sentTo: CHAIN[start] ?? 'safe', outputBegan });

  it('sends a stream broken after output began to the model after the one that answered, with no retry counted', () => {
    expect(nextStep(failed(0, broken, 'a'), null)).toEqual({ kind: 'switch', reason: 'STREAM_BROKEN', index: 1, countsRetry: false });
    // OpenRouter fell back to b before it broke: the next is c.
    expect(nextStep(failed(0, broken, 'b'), null)).toEqual({ kind: 'switch', reason: 'STREAM_BROKEN', index: 2, countsRetry: false });
  });

  it('counts a retry once the whole chain has failed (the last model, or one before the attempt place), from the first model again', () => {
    expect(nextStep(failed(2, broken, 'c'), null)).toEqual({ kind: 'switch', reason: 'STREAM_BROKEN', index: 0, countsRetry: true });
    expect(nextStep(failed(2, broken, 'a'), null)).toEqual({ kind: 'switch', reason: 'STREAM_BROKEN', index: 0, countsRetry: true });
    // From the first model already: the ordinary failure does that.
    expect(nextStep({ ...failed(0, broken, 'c') }, null)).toEqual({ kind: 'fail' });
  });

  it('leaves a failure before output, or not from the provider, to the ordinary failure', () => {
    expect(nextStep(failed(0, broken, null, false), null)).toEqual({ kind: 'fail' });
    expect(nextStep(failed(0, new Error('bug'), 'a'), null)).toEqual({ kind: 'fail' });
  });

  it('moves a context-length refusal to the next model at once, and fails it after the last', () => {
    expect(isContextLengthError(tooLong)).toBe(true);
    expect(nextStep(failed(0, tooLong, null, false), null)).toEqual({ kind: 'switch', reason: 'CONTEXT_LENGTH', index: 1, countsRetry: false });
    expect(nextStep(failed(2, tooLong, null, false), null)).toEqual({ kind: 'fail' });
  });

  it('moves a content-filter refusal to the fallback model when one is named, once', () => {
    expect(nextStep(failed(1, filtered, null, false), 'safe')).toEqual({ kind: 'switch', reason: 'CONTENT_FILTER', index: 3, countsRetry: false });
    expect(nextStep(failed(1, filtered, null, false), null)).toEqual({ kind: 'fail' });
    expect(nextStep(failed(3, filtered, null, false), 'safe')).toEqual({ kind: 'fail' });
  });
});
