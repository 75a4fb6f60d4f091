import { describe, expect, it } from 'vitest';
import { applyOutputChunks, attemptLabel, emptyOutput, outputTail, type OutputChunk, type TaskOutput } from './output-merge.ts';

let next = 0;
const chunk = (text: string, patch: Partial<OutputChunk> = {}): OutputChunk => ({
  taskId: 't1',
  cursor: `c${(next += 1)}`,
  attempt: 1,
  text,
  reset: false,
  final: false,
  model: null,
  ...patch,
});
const apply = (...batches: OutputChunk[][]): TaskOutput => batches.reduce(applyOutputChunks, emptyOutput('t1'));

describe('applyOutputChunks', () => {
  it('appends the chunks of an attempt in arrival order and keeps the last cursor', () => {
    const first = chunk('The ', { reset: true });
    const output = apply([first, chunk('quick ')], [chunk('fox.', { cursor: 'last' })]);
    expect(output).toMatchObject({ text: 'The quick fox.', attempt: 1, cursor: 'last', final: false });
  });

  it('never applies a cursor twice, in one batch or across batches', () => {
    const a = chunk('a', { reset: true });
    const b = chunk('b');
    const output = apply([a, b, a], [b, chunk('c'), b]);
    expect(output.text).toBe('abc');
  });

  it('returns the same object when nothing was new, so a signal holding it does not notify', () => {
    const a = chunk('a', { reset: true });
    const once = apply([a]);
    expect(applyOutputChunks(once, [a])).toBe(once);
    expect(applyOutputChunks(once, [])).toBe(once);
  });

  it('does not mutate the output it was given', () => {
    const before = apply([chunk('a', { reset: true })]);
    const seen = [...before.seen];
    applyOutputChunks(before, [chunk('b')]);
    expect(before.text).toBe('a');
    expect([...before.seen]).toEqual(seen);
  });

  it('drops the text of earlier attempts on reset and follows the new attempt', () => {
    const output = apply([chunk('first try', { reset: true }), chunk(' went wrong')], [chunk('Second', { attempt: 2, reset: true }), chunk(' try', { attempt: 2 })]);
    expect(output).toMatchObject({ text: 'Second try', attempt: 2 });
  });

  it('replaces the text on a reset within the same attempt (the server resends the whole text)', () => {
    const output = apply([chunk('Draft', { reset: true }), chunk(' text')], [chunk('Final text.', { reset: true, final: true })]);
    expect(output).toMatchObject({ text: 'Final text.', attempt: 1, final: true });
  });

  it('ignores a late chunk of an older attempt, reset or not', () => {
    const output = apply(
      [chunk('new', { attempt: 2, reset: true })],
      [chunk(' stale', { attempt: 1 }), chunk('stale again', { attempt: 1, reset: true, cursor: 'old' })],
    );
    expect(output).toMatchObject({ text: 'new', attempt: 2, cursor: 'old' });
  });

  it('starts the text over when a newer attempt comes without its reset chunk', () => {
    expect(apply([chunk('one', { reset: true })], [chunk('two', { attempt: 2 })]).text).toBe('two');
  });

  it('names the model an attempt starts with, keeps it for the chunks after, and switches with a new attempt', () => {
    const first = apply([chunk('The ', { reset: true, model: 'acme/primary' }), chunk('quick ')]);
    expect(first).toMatchObject({ text: 'The quick ', attempt: 1, model: 'acme/primary' });
    // The stream broke: attempt 2 starts over on the next model of the chain.
    const switched = applyOutputChunks(first, [chunk('A fox', { attempt: 2, reset: true, model: 'acme/fallback' }), chunk(' ran.', { attempt: 2 })]);
    expect(switched).toMatchObject({ text: 'A fox ran.', attempt: 2, model: 'acme/fallback' });
    // A late chunk of attempt 1 changes neither the text nor the model.
    expect(applyOutputChunks(switched, [chunk(' brown', { model: 'acme/primary' })])).toMatchObject({ text: 'A fox ran.', model: 'acme/fallback' });
  });

  it("keeps the model through the server's resend of the whole text, and forgets it for a new attempt that names none", () => {
    const first = apply([chunk('Hello', { reset: true, model: 'acme/primary' }), chunk('Hello world', { reset: true, final: true })]);
    expect(first).toMatchObject({ text: 'Hello world', model: 'acme/primary', final: true });
    const unnamed = apply([chunk('a', { reset: true, model: 'acme/primary' }), chunk('b', { attempt: 2, reset: true })]);
    expect(unnamed).toMatchObject({ text: 'b', attempt: 2, model: null });
  });

  it('treats the final chunk as the end: nothing after it changes the text', () => {
    const output = apply([chunk('Done.', { reset: true, final: true })], [chunk(' more'), chunk('other', { attempt: 2, reset: true })]);
    expect(output).toMatchObject({ text: 'Done.', attempt: 1, final: true });
  });

  it("ignores another task's chunks", () => {
    expect(apply([chunk('mine', { reset: true }), chunk(' theirs', { taskId: 't2' })]).text).toBe('mine');
  });
});

describe('outputTail', () => {
  it('keeps a short text whole, on one line', () => {
    expect(outputTail('Line one.\n\n  Line two. ', 80)).toBe('Line one. Line two.');
  });

  it('keeps the last characters of a long text, marked as cut', () => {
    const tail = outputTail(`${'x'.repeat(500)} and the end`, 12);
    expect(tail).toBe('…and the end');
  });

  it('marks a text as cut even when collapsing whitespace makes the kept end short', () => {
    expect(outputTail(`start${' '.repeat(40)}end`, 10)).toBe('…end');
  });

  it('never splits a surrogate pair', () => {
    const tail = outputTail(`${'a'.repeat(20)}😀b`, 2);
    expect(tail).toBe('…b');
  });
});

describe('attemptLabel', () => {
  it('says which attempt is writing, and when that attempt failed', () => {
    expect(attemptLabel(2, 'ACTIVE', [1])).toBe('attempt 2 writing…');
    expect(attemptLabel(1, 'SCHEDULED', [1])).toBe('attempt 1 failed');
    expect(attemptLabel(1, 'ACTIVE', [1])).toBe('attempt 1 failed');
    expect(attemptLabel(3, 'CANCELLED', [1, 2])).toBe('attempt 3');
  });
});
