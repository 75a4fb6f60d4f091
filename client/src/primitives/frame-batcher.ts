/**
 * Coalesces high-rate pushes into one flush per animation frame: a thousand task changes
 * arriving in one frame become one store update and one render. The scheduler is a
 * parameter so tests can drive frames by hand.
 */

export type FrameScheduler = (run: () => void) => () => void;

/** requestAnimationFrame, or a 16 ms timer where there is none (a hidden tab still flushes). */
export const animationFrame: FrameScheduler = (run) => {
  if (typeof requestAnimationFrame === 'function' && document.visibilityState !== 'hidden') {
    const id = requestAnimationFrame(run);
    return () => cancelAnimationFrame(id);
  }
  const id = setTimeout(run, 16);
  return () => clearTimeout(id);
};

export interface FrameBatcher<T> {
  push(item: T): void;
  /** Flushes what is pending now (e.g. before a snapshot replaces the state). */
  flush(): void;
  dispose(): void;
}

/**
 * Collects items and hands them to `onFlush` once per frame, in arrival order.
 * Items pushed after `dispose()` are dropped.
 */
export function createFrameBatcher<T>(onFlush: (items: T[]) => void, schedule: FrameScheduler = animationFrame): FrameBatcher<T> {
  let pending: T[] = [];
  let cancel: (() => void) | null = null;
  let disposed = false;

  const flush = () => {
    cancel?.();
    cancel = null;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    onFlush(items);
  };

  return {
    push(item) {
      if (disposed) return;
      pending.push(item);
      cancel ??= schedule(flush);
    },
    flush,
    dispose() {
      disposed = true;
      cancel?.();
      cancel = null;
      pending = [];
    },
  };
}
