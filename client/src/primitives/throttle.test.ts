import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle } from './throttle.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('createThrottle', () => {
  it('runs the first call at once, and a burst during the interval once at its end', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 5000);
    throttle.call();
    expect(run).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 100; i += 1) throttle.call();
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(4999);
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(2);
    // That trailing run starts an interval of its own.
    throttle.call();
    expect(run).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledTimes(3);
  });

  it('runs at once again after a quiet interval, and never after dispose', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 1000);
    throttle.call();
    vi.advanceTimersByTime(3000);
    throttle.call();
    expect(run).toHaveBeenCalledTimes(2);
    throttle.call();
    throttle.dispose();
    vi.advanceTimersByTime(5000);
    throttle.call();
    expect(run).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
