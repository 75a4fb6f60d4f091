/**
 * Spend and budgets for the dashboard: the `Spend` query over the last few UTC days, read
 * again when spend may have moved, and only then.
 *
 * `usage` and `budgets` are not live (they are sums the server adds up on request), but the
 * task feed is: tasksUpdated tells when a task started an attempt (its call holds an estimate
 * against the budgets) or an attempt ended (its calls were billed). Such a change asks for a
 * read, at most one per `minIntervalMs` (a burst of a thousand completions costs one read at
 * once and one when the interval ends, so the last completion is never missed); progress
 * updates ask for nothing. After a reconnect the feed says it is live again: changes made
 * meanwhile were not streamed, so that asks for a read too. Besides, a read is scheduled for
 * the two instants the figures change without any task: the end of the range's last day (a new
 * day starts) and the earliest budget reset. No timer loop: an idle system is never read.
 */
import { createQuery } from '@urql/solid';
import { createEffect, createSignal, on, onCleanup, type Accessor } from 'solid-js';
import { errorMessage } from '../format.ts';
import { SpendQuery } from '../graphql/usage.ts';
import { createSpendWatch, spendRange, type Budget, type UsageRow } from '../spend-model.ts';
import { createLiveTasks } from './create-live-tasks.ts';
import type { FrameScheduler } from './frame-batcher.ts';
import { createThrottle } from './throttle.ts';

/** The shortest time between two reads the task feed asks for. */
export const SPEND_REFRESH_MS = 5_000;

// setTimeout holds at most 2^31 - 1 ms; the range's end is never more than a day away anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SpendOptions {
  /** How many UTC days, today included, the range holds. */
  days: Accessor<number>;
  /** Default SPEND_REFRESH_MS. */
  minIntervalMs?: number;
  /** Frames for the task feed's batches (tests run them by hand). */
  schedule?: FrameScheduler;
}

export function createSpend(options: SpendOptions) {
  const [range, setRange] = createSignal(spendRange(options.days(), Date.now()));
  const [readAt, setReadAt] = createSignal<number | null>(null);
  // A new range object re-runs the query, even with the same bounds: that is a refresh.
  const [result] = createQuery({ query: SpendQuery, variables: () => ({ from: range().from, to: range().to }) });
  const refresh = () => setRange(spendRange(options.days(), Date.now()));
  createEffect(on(options.days, refresh, { defer: true }));
  createEffect(
    on(
      () => result.fetching,
      (fetching, was) => {
        if (was && !fetching && !result.error) setReadAt(Date.now());
      },
    ),
  );

  const throttle = createThrottle(refresh, options.minIntervalMs ?? SPEND_REFRESH_MS);
  onCleanup(() => throttle.dispose());
  const moved = createSpendWatch();
  createLiveTasks({
    onBatch: (changes) => {
      if (moved(changes.flatMap((change) => (change.kind === 'update' ? [change.task] : [])))) throttle.call();
    },
    onLive: () => throttle.call(),
    schedule: options.schedule,
  });

  const budgets = (): readonly Budget[] => result.data?.budgets ?? [];
  // The next instant the figures change without a task: a new UTC day, or a budget's reset.
  // An instant already past by this browser's clock (a clock ahead of the server's) is left out.
  createEffect(() => {
    const now = Date.now();
    const next = Math.min(...[range().to, ...budgets().map((budget) => budget.resetsAt)].map(Date.parse).filter((at) => at > now));
    if (!Number.isFinite(next)) return;
    const timer = setTimeout(refresh, Math.min(next - now + 1_000, MAX_TIMER_MS));
    onCleanup(() => clearTimeout(timer));
  });

  return {
    range,
    rows: (): readonly UsageRow[] => result.data?.usage ?? [],
    budgets,
    /** True until the first answer. */
    loading: () => result.fetching && !result.data,
    /** True while any read is on its way (the figures shown stay until it answers). */
    reading: () => result.fetching,
    error: () => (result.error ? errorMessage(result.error) : null),
    /** When the figures shown were read (ms), or null before the first answer. */
    readAt,
    /** Reads again now (the Refresh button, a budget just set). */
    refresh,
  };
}

export type Spend = ReturnType<typeof createSpend>;
