import { describe, expect, it } from 'vitest';
import { createManualFrames } from '../test-support/hand-transport.ts';
import { createFrameBatcher } from './frame-batcher.ts';

describe('createFrameBatcher', () => {
  it('hands everything pushed within a frame to one flush, in order', () => {
    const frames = createManualFrames();
    const flushes: number[][] = [];
    const batcher = createFrameBatcher<number>((items) => flushes.push(items), frames.schedule);
    for (let i = 0; i < 1000; i += 1) batcher.push(i);
    expect(flushes).toEqual([]);
    expect(frames.pending()).toBe(1);
    frames.frame();
    expect(flushes).toHaveLength(1);
    expect(flushes[0]).toHaveLength(1000);
    expect(flushes[0]!.slice(0, 3)).toEqual([0, 1, 2]);
    batcher.push(1000);
    frames.frame();
    expect(flushes).toEqual([expect.any(Array), [1000]]);
  });

  it('flushes at once on demand and drops what comes after dispose', () => {
    const frames = createManualFrames();
    const flushes: string[][] = [];
    const batcher = createFrameBatcher<string>((items) => flushes.push(items), frames.schedule);
    batcher.push('a');
    batcher.flush();
    expect(flushes).toEqual([['a']]);
    expect(frames.pending()).toBe(0);
    batcher.push('b');
    batcher.dispose();
    batcher.push('c');
    frames.frame();
    expect(flushes).toEqual([['a']]);
  });

  it('falls back to a timer when the page is hidden', async () => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    try {
      const flushed = new Promise<number[]>((resolve) => {
        const batcher = createFrameBatcher<number>(resolve);
        batcher.push(1);
        batcher.push(2);
      });
      expect(await flushed).toEqual([1, 2]);
    } finally {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    }
  });
});
