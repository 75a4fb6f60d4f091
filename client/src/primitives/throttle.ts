/**
 * At most one run per interval, and never a signal lost: the first call runs at once, calls
 * during the interval that follows make one more run when it ends. For reads triggered by a
 * live feed, where a burst of events must cost one read, and the last event must still be seen.
 */

export interface Throttle {
  /** Asks for a run: now, or at the end of the current interval. */
  call(): void;
  /** Cancels a run waiting for its interval; later calls do nothing. */
  dispose(): void;
}

/** Throttles `run` to once per `intervalMs`, leading and trailing. */
export function createThrottle(run: () => void, intervalMs: number): Throttle {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending = false;
  let disposed = false;

  const cool = () => {
    timer = setTimeout(() => {
      timer = null;
      if (!pending || disposed) return;
      pending = false;
      run();
      cool();
    }, intervalMs);
  };

  return {
    call: () => {
      if (disposed) return;
      if (timer !== null) {
        pending = true;
        return;
      }
      run();
      cool();
    },
    dispose: () => {
      disposed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
