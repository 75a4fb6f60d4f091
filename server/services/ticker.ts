/**
 * One timer for many periodic callbacks. Each callback runs once per `intervalMs`; callbacks
 * are spread over `slots` evenly spaced ticks, so ten thousand watches re-reading their task
 * every interval do it a tenth at a time, not all at once, and hold no timer each. The timer
 * runs only while something is registered, and never keeps the process alive.
 */
export interface Ticker {
  /** Calls `callback` every `intervalMs` (the first time within one interval); dispose to stop. */
  every(callback: () => void): { dispose(): void };
  /** Callbacks registered now. */
  readonly size: number;
}

export function createTicker(intervalMs: number, slots = 10): Ticker {
  const buckets = Array.from({ length: slots }, () => new Set<() => void>());
  let size = 0;
  let next = 0;
  let current = 0;
  let timer: NodeJS.Timeout | null = null;

  const tick = () => {
    const bucket = buckets[current]!;
    current = (current + 1) % slots;
    for (const callback of bucket) callback();
  };

  return {
    every(callback) {
      const bucket = buckets[next]!;
      next = (next + 1) % slots;
      bucket.add(callback);
      size += 1;
      if (!timer) {
        timer = setInterval(tick, Math.max(1, Math.round(intervalMs / slots)));
        timer.unref();
      }
      let disposed = false;
      return {
        dispose() {
          if (disposed) return;
          disposed = true;
          bucket.delete(callback);
          size -= 1;
          if (size === 0 && timer) {
            clearInterval(timer);
            timer = null;
          }
        },
      };
    },
    get size() {
      return size;
    },
  };
}
