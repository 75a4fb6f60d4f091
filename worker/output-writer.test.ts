import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppendOutcome } from '../schema/src/scripts/output.ts';
import { OutputWriter, type OutputWriterOptions } from './output-writer.ts';

/** A writer over an append that records what it was given and answers `answer` (or waits for `gate`). */
function writer(overrides: Partial<OutputWriterOptions> = {}) {
  const appended: string[] = [];
  const events: string[] = [];
  let answer: () => Promise<AppendOutcome> = async () => ({ status: 'ok', seq: appended.length });
  const output = new OutputWriter({
    append: (text) => {
      appended.push(text);
      return answer();
    },
    flushMs: 50,
    flushChars: 10,
    maxBytes: 1000,
    onStale: () => events.push('stale'),
    onTooLarge: (bytes) => events.push(`too large ${bytes}`),
    onError: (error) => events.push(`error ${error.message}`),
    ...overrides,
  });
  return { output, appended, events, answerWith: (next: () => Promise<AppendOutcome>) => (answer = next) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OutputWriter', () => {
  it('sends the first text at once, then coalesces until the flush time or size', async () => {
    const { output, appended } = writer();
    output.write('first');
    expect(appended).toEqual(['first']);
    await vi.advanceTimersByTimeAsync(0);
    output.write('ab');
    output.write('cd');
    expect(appended).toEqual(['first']);
    await vi.advanceTimersByTimeAsync(49);
    expect(appended).toEqual(['first']);
    await vi.advanceTimersByTimeAsync(1);
    expect(appended).toEqual(['first', 'abcd']);
    output.write('0123456789xy');
    expect(appended).toEqual(['first', 'abcd', '0123456789xy']);
  });

  it('keeps one append in flight and sends what came meanwhile next', async () => {
    const { output, appended, answerWith } = writer();
    let release!: () => void;
    answerWith(() => new Promise((resolve) => (release = () => resolve({ status: 'ok', seq: 1 }))));
    output.write('first piece!');
    output.write('second piece');
    output.write(' and third.');
    expect(appended).toEqual(['first piece!']);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(appended).toEqual(['first piece!', 'second piece and third.']);
  });

  it('holds back what the result will trim, so what it writes is a prefix of the result', async () => {
    const { output, appended } = writer({ flushChars: 1 });
    for (const piece of ['\n  ', ' Hello', ' ', 'world', '  \n', '!', ' \n\n']) output.write(piece);
    await vi.advanceTimersByTimeAsync(100);
    await output.settle();
    const written = appended.join('');
    const result = '\n   Hello world  \n! \n\n'.trim();
    expect(written).toBe('Hello world  \n!');
    const streamedBytes = Buffer.byteLength(written);
    expect(output.final(result)).toEqual({ text: '', reset: false, streamedBytes });
    expect(output.final(`${result} And more.`)).toEqual({ text: ' And more.', reset: false, streamedBytes });
    expect(output.final('Something else')).toEqual({ text: 'Something else', reset: true, streamedBytes });
  });

  it('stops and reports a lost lease', async () => {
    const { output, appended, events, answerWith } = writer({ flushChars: 1 });
    answerWith(async () => ({ status: 'stale', state: 'ACTIVE' }));
    output.write('one');
    await vi.advanceTimersByTimeAsync(0);
    output.write('two');
    await vi.advanceTimersByTimeAsync(100);
    expect(appended).toEqual(['one']);
    expect(events).toEqual(['stale']);
    // Nothing was acknowledged: the final chunk carries everything.
    expect(output.final('one two')).toEqual({ text: 'one two', reset: false, streamedBytes: 0 });
  });

  it('reports passing the cap before it sends, and when the store says so', async () => {
    const local = writer({ flushChars: 1, maxBytes: 5 });
    local.output.write('ünï');
    await vi.advanceTimersByTimeAsync(0);
    local.output.write('code');
    await vi.advanceTimersByTimeAsync(0);
    expect(local.appended).toEqual(['ünï']);
    expect(local.events).toEqual(['too large 9']);

    const remote = writer({ flushChars: 1 });
    remote.answerWith(async () => ({ status: 'too_large', bytes: 990 }));
    remote.output.write('0123456789abc');
    await vi.advanceTimersByTimeAsync(0);
    expect(remote.events).toEqual(['too large 1003']);
  });

  it('stops streaming after a failed append, so watchers never see a hole', async () => {
    const { output, appended, events, answerWith } = writer({ flushChars: 1 });
    output.write('kept');
    await vi.advanceTimersByTimeAsync(0);
    answerWith(async () => Promise.reject(new Error('redis down')));
    output.write(' lost');
    await vi.advanceTimersByTimeAsync(0);
    output.write(' never sent');
    await vi.advanceTimersByTimeAsync(100);
    expect(appended).toEqual(['kept', ' lost']);
    expect(events).toEqual(['error redis down']);
    expect(output.final('kept lost never sent')).toEqual({ text: ' lost never sent', reset: false, streamedBytes: 4 });
  });

  it('takes a resent append that had been applied as written, and stops on any other length', async () => {
    const resent = writer({ flushChars: 1 });
    resent.answerWith(async () => ({ status: 'moved', bytes: 5 }));
    resent.output.write('hello');
    await vi.advanceTimersByTimeAsync(0);
    resent.output.write(' world');
    expect(resent.appended).toEqual(['hello', ' world']);
    expect(resent.events).toEqual([]);

    const other = writer({ flushChars: 1 });
    other.answerWith(async () => ({ status: 'moved', bytes: 12 }));
    other.output.write('hello');
    await vi.advanceTimersByTimeAsync(0);
    other.output.write(' world');
    await vi.advanceTimersByTimeAsync(100);
    expect(other.appended).toEqual(['hello']);
    expect(other.events).toEqual(['error output is 12 bytes, not the 0 written']);
    expect(other.output.final('hello world')).toMatchObject({ streamedBytes: 0 });
  });
});
