/** A clock for countdowns and ages: one timer per interval, shared by everything that reads it. */
import { createSignal, getOwner, onCleanup, type Accessor } from 'solid-js';

const clocks = new Map<number, { now: Accessor<number>; users: number; stop: () => void }>();

/** The current time in ms, updated every `intervalMs` (default 1 s) while anyone reads it. */
export function createNow(intervalMs = 1000): Accessor<number> {
  let clock = clocks.get(intervalMs);
  if (!clock) {
    const [now, setNow] = createSignal(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    clock = { now, users: 0, stop: () => clearInterval(timer) };
    clocks.set(intervalMs, clock);
  }
  const shared = clock;
  shared.users += 1;
  if (getOwner()) {
    onCleanup(() => {
      shared.users -= 1;
      if (shared.users === 0) {
        shared.stop();
        clocks.delete(intervalMs);
      }
    });
  }
  return shared.now;
}
