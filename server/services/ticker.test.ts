import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTicker } from './ticker.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createTicker', () => {
  it('calls every callback once per interval, spread over the slots', () => {
    const ticker = createTicker(1000, 4);
    const calls: string[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) ticker.every(() => calls.push(name));
    vi.advanceTimersByTime(250);
    expect(calls).toEqual(['a', 'e']);
    vi.advanceTimersByTime(750);
    expect(calls.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(10);
  });

  it('stops calling a disposed callback, and holds no timer once none is left', () => {
    const ticker = createTicker(100, 2);
    let calls = 0;
    const first = ticker.every(() => (calls += 1));
    vi.advanceTimersByTime(100);
    expect(calls).toBe(1);
    first.dispose();
    first.dispose();
    expect(ticker.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(1);
  });
});
