/**
 * How fast tasks start, cluster-wide, for `Task.estimatedStartAt`. Each API server measures it
 * from the tasks channel it subscribes to anyway: every change into ACTIVE of a new attempt is a
 * start (a claim, or a takeover's claim), kept for the last `windowMs`. Until the server has
 * listened that long, or when nothing started in the window, the per-minute flow counters every
 * server shares (flow-service.ts) give the rate of the last minute or two instead; with no start
 * there either there is no rate.
 */
import type { Logger } from '../../common/logger.ts';
import { TaskState } from '../../schema/src/task.ts';
import type { Disposable } from '../infra/task-events.ts';
import type { TaskFlowSnapshot } from './flow-service.ts';

export interface StartRateOptions {
  /** Subscribes to every task message, unparsed (`TaskEventBus.onAnyTaskRaw`); resolves once live. */
  listen(onMessage: (json: string) => void): Promise<Disposable>;
  /** The flow counters of the last `minutes` minutes (`FlowService.flow`). */
  flow(minutes: number): Promise<TaskFlowSnapshot>;
  /** START_RATE_WINDOW_MS: the starts counted are those of this long ago to now. */
  windowMs: number;
  /** How long a rate read from the flow counters is reused (default 5 s). */
  fallbackTtlMs?: number;
  logger: Logger;
  now?: () => number;
}

/** The attempts seen starting are remembered up to this many tasks (a takeover is a new attempt, so a new start). */
const MAX_TRACKED_TASKS = 10_000;
/** A message of a task in ACTIVE, as the scripts' cjson writes it: only these are parsed. */
const ACTIVE_MARK = `"state":"${TaskState.ACTIVE}"`;
/** The task's id and attempt members (cjson writes the record's fields as strings; ids need no escapes). */
const ID_MEMBER = /[{,]"id":"([^"\\]*)"/;
const ATTEMPT_MEMBER = /[{,]"attempt":"?(\d+)/;

export type StartRate = ReturnType<typeof createStartRate>;

export function createStartRate(options: StartRateOptions) {
  const now = options.now ?? Date.now;
  const fallbackTtlMs = options.fallbackTtlMs ?? 5000;
  /** Start times, oldest first; `first` is where the live ones begin (a ring would be no faster here). */
  let starts: number[] = [];
  let first = 0;
  const attempts = new Map<string, number>();
  let listeningSince: number | null = null;
  let subscription: Promise<Disposable> | null = null;
  /** The last rate read from the flow counters; `none` once it settled with no rate. */
  let fallback: { at: number; rate: Promise<number | null>; none: boolean } | null = null;
  let disposed = false;

  function onMessage(json: string): void {
    if (!json.includes(ACTIVE_MARK)) return;
    // Two fields read out of the text, not the whole record parsed (every API server reads every
    // start): in JSON a quote inside a string is escaped, so `,"id":"` can only begin a member.
    const id = ID_MEMBER.exec(json)?.[1];
    const attemptText = ATTEMPT_MEMBER.exec(json)?.[1];
    if (id === undefined || attemptText === undefined) return;
    const attempt = Number(attemptText);
    // A progress event of the same attempt is not a start.
    if (attempts.get(id) === attempt) return;
    attempts.delete(id);
    attempts.set(id, attempt);
    if (attempts.size > MAX_TRACKED_TASKS) attempts.delete(attempts.keys().next().value!);
    starts.push(now());
    // "Nothing started" is out of date now: the next estimate reads the counters again.
    if (fallback?.none) fallback = null;
  }

  /** Drops the starts that left the window. */
  function prune(at: number): number {
    while (first < starts.length && starts[first]! <= at - options.windowMs) first += 1;
    if (first > 1024 && first * 2 > starts.length) {
      starts = starts.slice(first);
      first = 0;
    }
    return starts.length - first;
  }

  /** Starts per ms over the last minute or two of the flow counters; null when none. */
  async function fromFlow(): Promise<number | null> {
    const snapshot = await options.flow(2);
    const oldest = snapshot.buckets[0];
    if (!oldest) return null;
    let count = 0;
    for (const bucket of snapshot.buckets) {
      for (const transition of bucket.transitions) if (transition.to === TaskState.ACTIVE) count += transition.count;
    }
    const spanMs = snapshot.at - oldest.start;
    return count > 0 && spanMs > 0 ? count / spanMs : null;
  }

  /** Starts listening (once); the window counts from when the subscription is live. A failure is tried again by the next `rate()`. */
  function start(): Promise<void> {
    if (!subscription) {
      const live = options.listen(onMessage);
      subscription = live;
      live.catch(() => {
        if (subscription === live) subscription = null;
      });
    }
    return subscription.then(() => {
      listeningSince ??= now();
    });
  }

  return {
    start,

    /**
     * Starts per millisecond: measured over the window once this server has listened for a whole
     * one and saw a start in it, else from the flow counters (read at most every 5 s, or again
     * at the first start seen after they showed none); null when nothing started recently or the
     * counters cannot be read.
     */
    async rate(): Promise<number | null> {
      if (!subscription && !disposed) start().catch((error: Error) => options.logger.debug({ err: error.message }, 'start rate: subscription failed; retrying later'));
      const at = now();
      const counted = prune(at);
      if (listeningSince !== null && at - listeningSince >= options.windowMs && counted > 0) return counted / options.windowMs;
      if (!fallback || at - fallback.at >= fallbackTtlMs) {
        const read = { at, none: false, rate: Promise.resolve<number | null>(null) };
        read.rate = fromFlow().then(
          (rate) => {
            read.none = rate === null;
            return rate;
          },
          (error: Error) => {
            options.logger.debug({ err: error.message }, 'start rate: flow counters unreadable');
            return null;
          },
        );
        fallback = read;
      }
      return fallback.rate;
    },

    dispose(): void {
      disposed = true;
      subscription?.then((live) => live.dispose(), () => undefined);
      subscription = null;
      listeningSince = null;
    },
  };
}
