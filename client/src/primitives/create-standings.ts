/**
 * Where the waiting tasks a list shows stand, live: one `taskStandingsUpdated` subscription for
 * the visible PENDING and SCHEDULED rows (at most MAX_STANDING_IDS). The server sends each task's
 * standing at once, then each change, then one of nulls when the task stops waiting; it follows
 * a task no further after that. tasksUpdated does not carry standings (a standing changes without
 * a new version), so a list needs both.
 *
 * When to subscribe again (the server answers a new subscription with every standing again, so
 * not on every change of the list):
 * - a row enters the waiting set (a new task, a retried one, a page turned): the server does
 *   not follow it yet, or stopped following it when its last wait ended;
 * - a waiting row leaves the list while still waiting (paged or filtered away, pushed off the
 *   end): the server would go on reading its standing for nobody.
 * A waiting row that starts leaves the set without either: its stream has just ended with nulls.
 * Both are throttled (a burst of submits costs one subscription now and one at the end of the
 * interval), and with no waiting row there is no subscription.
 */
import { createSubscription } from '@urql/solid';
import { batch, createEffect, createSignal, on, onCleanup, untrack, type Accessor } from 'solid-js';
import { createStore } from 'solid-js/store';
import { mayWait, type TaskStanding } from '../dispatch-labels.ts';
import type { TaskStandingsUpdatedSubscription, TaskStandingsUpdatedSubscriptionVariables, TaskState } from '../gql/graphql.ts';
import { TaskStandingsSubscription } from '../graphql/dispatch.ts';
import { createFrameBatcher, type FrameScheduler } from './frame-batcher.ts';
import { createThrottle } from './throttle.ts';

/** The most ids one taskStandingsUpdated may name (the server refuses more). */
export const MAX_STANDING_IDS = 100;

/** The shortest time between two subscriptions for a new set of rows. */
export const STANDINGS_RESUBSCRIBE_MS = 500;

type StandingEvent = TaskStandingsUpdatedSubscription['taskStandingsUpdated'];

/** A standing as a list keeps it, with when it was read. */
export interface ListStanding extends TaskStanding {
  at: string;
}

export interface StandingsOptions {
  /** The rows the list shows now, in its order (the first MAX_STANDING_IDS waiting ones are followed). */
  rows: Accessor<readonly { id: string; state: TaskState }[]>;
  /** Default STANDINGS_RESUBSCRIBE_MS. */
  minIntervalMs?: number;
  /** When to apply the standings received (default: once per animation frame). */
  schedule?: FrameScheduler;
}

/** The ids of the waiting rows, in the list's order, at most MAX_STANDING_IDS. */
export function waitingIds(rows: readonly { id: string; state: TaskState }[]): string[] {
  return rows
    .filter((row) => mayWait(row.state))
    .slice(0, MAX_STANDING_IDS)
    .map((row) => row.id);
}

/**
 * Whether the list must subscribe again, going from `before` to `now` (see the file comment):
 * a waiting id that was not waiting before, or one that was and is no longer shown at all.
 */
export function needsResubscribe(before: { waiting: readonly string[] }, now: { waiting: readonly string[]; shown: ReadonlySet<string> }): boolean {
  const was = new Set(before.waiting);
  return now.waiting.some((id) => !was.has(id)) || before.waiting.some((id) => !now.shown.has(id));
}

/** Reads and follows the standings of a list's waiting rows; `standing(id)` is fine-grained. */
export function createStandings(options: StandingsOptions) {
  const [standings, setStandings] = createStore<Record<string, ListStanding | undefined>>({});
  const [subscribed, setSubscribed] = createSignal<readonly string[]>([]);

  const apply = (events: StandingEvent[]) =>
    batch(() => {
      for (const event of events) {
        const current = standings[event.taskId];
        // Two reads of one task can cross; the later read wins.
        if (current && Date.parse(current.at) > Date.parse(event.at)) continue;
        setStandings(event.taskId, { waitReason: event.waitReason, queuePosition: event.queuePosition, estimatedStartAt: event.estimatedStartAt, at: event.at });
      }
    });
  const batcher = createFrameBatcher<StandingEvent>(apply, options.schedule);
  onCleanup(() => batcher.dispose());

  const subscribeNow = () => {
    const ids = waitingIds(untrack(options.rows));
    batch(() => {
      setSubscribed(ids);
      // Keep only what the rows still show: the store must not grow all day.
      const keep = new Set(ids);
      for (const id of Object.keys(standings)) if (!keep.has(id)) setStandings(id, undefined);
    });
  };
  const throttle = createThrottle(subscribeNow, options.minIntervalMs ?? STANDINGS_RESUBSCRIBE_MS);
  onCleanup(() => throttle.dispose());

  let before: { waiting: readonly string[] } = { waiting: [] };
  createEffect(
    on(options.rows, (rows) => {
      const now = { waiting: waitingIds(rows), shown: new Set(rows.map((row) => row.id)) };
      if (needsResubscribe(before, now)) throttle.call();
      before = now;
    }),
  );

  createSubscription<TaskStandingsUpdatedSubscription, string, TaskStandingsUpdatedSubscriptionVariables>(
    { query: TaskStandingsSubscription, variables: () => ({ ids: [...subscribed()] }), pause: () => subscribed().length === 0 },
    // Only the id goes into urql's store: it reconciles each result into the previous object,
    // which would change an event still waiting for its frame. The event is copied too.
    (_previous, data) => {
      batcher.push({ ...data.taskStandingsUpdated });
      return data.taskStandingsUpdated.taskId;
    },
  );

  return {
    /** Where task `id` stands, if it is a waiting row the list follows and a standing came. */
    standing: (id: string): ListStanding | undefined => standings[id],
    /** The ids the subscription follows now (tests). */
    subscribed,
  };
}
