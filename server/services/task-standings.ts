/**
 * Where waiting tasks stand (`waitReason`, `queuePosition`), read from the dispatcher and kept
 * live. Two parts:
 *
 * - `standingOf(task)`: what the resolvers ask. A task that is not PENDING or SCHEDULED does not
 *   wait: null, with no Redis call. The others are read through one DataLoader for the whole
 *   process: every read asked for in the same tick (a list of a hundred tasks, the events of
 *   many subscriptions at once) is one `positions()` call, one atomic script run. Each task
 *   object is read at most once (its fields share the answer), and nothing is cached beyond it:
 *   a position is exact at the moment it is read.
 * - `follow(taskId, standing, onChange)`: a live subscription showing a waiting task. While any
 *   is followed, a change on the tasks channel (a start above all) makes the standings of every
 *   followed task be read again, in ONE positions() call, at most every `refreshMs`, and also
 *   every `resyncMs` (a policy set on another server publishes nothing); each follower whose
 *   standing changed is told. With nothing followed there is no subscription, no timer, and no
 *   Redis call.
 */
import DataLoader from 'dataloader';
import type { Logger } from '../../common/logger.ts';
import type { WaitReason } from '../../schema/src/dispatch.ts';
import type { TaskStanding } from '../../schema/src/scripts/dispatch-positions.ts';
import { TaskState, type TaskRecord } from '../../schema/src/task.ts';
import type { Disposable } from '../infra/task-events.ts';

/** Where a task stood at `at` (ms): both null once it no longer waits. */
export interface Standing {
  position: number | null;
  waitReason: WaitReason | null;
  at: number;
}

export interface TaskStandingsOptions {
  /** Where each task stands, in the order asked, in one atomic read (`DispatchStore.positions`). */
  positions(taskIds: readonly string[]): Promise<TaskStanding[]>;
  /** Subscribes to every task message as a hint (`TaskEventBus.onAnyTaskRaw`); resolves once live. */
  listen(onHint: () => void): Promise<Disposable>;
  /** STANDING_REFRESH_MS: followed standings are read again at most this often. */
  refreshMs: number;
  /** And at least this often while any is followed (SUBSCRIPTION_RESYNC_MS). */
  resyncMs: number;
  logger: Logger;
  now?: () => number;
}

/** The most tasks one positions() call is asked about; a larger batch is split. */
const MAX_BATCH = 1000;

export const isWaitingState = (state: TaskState): boolean => state === TaskState.PENDING || state === TaskState.SCHEDULED;

/** Whether a standing says the task waits. */
export const isWaiting = (standing: Standing | null): standing is Standing => standing !== null && standing.waitReason !== null;

const sameStanding = (a: Standing, b: Standing) => a.position === b.position && a.waitReason === b.waitReason;

interface Follower {
  last: Standing;
  onChange(standing: Standing): void;
}

export type TaskStandings = ReturnType<typeof createTaskStandings>;

export function createTaskStandings(options: TaskStandingsOptions) {
  const now = options.now ?? Date.now;
  const { logger } = options;

  async function readBatch(taskIds: readonly string[]): Promise<Standing[]> {
    const unique = [...new Set(taskIds)];
    const read = await options.positions(unique);
    const at = now();
    const byId = new Map(unique.map((id, i) => [id, { position: read[i]?.position ?? null, waitReason: read[i]?.waitReason ?? null, at }]));
    return taskIds.map((id) => byId.get(id)!);
  }
  // The batch window is DataLoader's: the reads asked for before the current tick's promise jobs run out.
  const loader = new DataLoader<string, Standing>(readBatch, { cache: false, maxBatchSize: MAX_BATCH });
  /** Standings already known for a task object: read once for all its fields, or brought by a live update. */
  const known = new WeakMap<TaskRecord, Standing | Promise<Standing | null>>();

  /** Where `task` stands now; null (no Redis call) when its state is not a waiting one. */
  function standingOf(task: TaskRecord): Standing | Promise<Standing | null> | null {
    const cached = known.get(task);
    if (cached !== undefined) return cached;
    if (!isWaitingState(task.state)) return null;
    const read = loader.load(task.id);
    known.set(task, read);
    return read;
  }

  /** A copy of `task` that answers `standing` to the resolvers, for a live update of the same version. */
  function withStanding(task: TaskRecord, standing: Standing): TaskRecord {
    const copy = { ...task };
    known.set(copy, standing);
    return copy;
  }

  const followers = new Map<string, Set<Follower>>();
  let hints: Promise<Disposable> | null = null;
  let resync: NodeJS.Timeout | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let again = false;
  let lastRefreshAt = -Infinity;

  function scheduleRefresh(): void {
    if (followers.size === 0) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) return;
    timer = setTimeout(refresh, Math.max(0, lastRefreshAt + options.refreshMs - now()));
  }

  async function refresh(): Promise<void> {
    timer = null;
    running = true;
    lastRefreshAt = now();
    try {
      const ids = [...followers.keys()];
      for (let from = 0; from < ids.length; from += MAX_BATCH) {
        const slice = ids.slice(from, from + MAX_BATCH);
        const standings = await readBatch(slice);
        slice.forEach((id, i) => notify(id, standings[i]!));
      }
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'task standings refresh failed; retrying at the next change');
    } finally {
      running = false;
      if (again) {
        again = false;
        scheduleRefresh();
      }
    }
  }

  function notify(taskId: string, standing: Standing): void {
    for (const follower of followers.get(taskId) ?? []) {
      if (sameStanding(follower.last, standing)) continue;
      follower.last = standing;
      follower.onChange(standing);
    }
  }

  function startFollowing(): void {
    hints = options.listen(scheduleRefresh);
    hints.catch((error: Error) => {
      logger.warn({ err: error.message }, 'task standings: hint subscription failed; refreshing on the resync timer only');
    });
    resync = setInterval(scheduleRefresh, options.resyncMs);
    resync.unref();
  }

  function stopFollowing(): void {
    hints?.then((subscription) => subscription.dispose(), () => undefined);
    hints = null;
    if (resync) clearInterval(resync);
    if (timer) clearTimeout(timer);
    resync = timer = null;
  }

  /**
   * Tells `onChange` each time the standing of `taskId` differs from the last one it had
   * (`standing` first). A standing that no longer waits is told too; the caller disposes then.
   */
  function follow(taskId: string, standing: Standing, onChange: (standing: Standing) => void): Disposable {
    if (followers.size === 0) startFollowing();
    const follower: Follower = { last: standing, onChange };
    const set = followers.get(taskId) ?? new Set();
    set.add(follower);
    followers.set(taskId, set);
    let disposed = false;
    return {
      dispose() {
        if (disposed) return;
        disposed = true;
        set.delete(follower);
        if (set.size === 0 && followers.get(taskId) === set) followers.delete(taskId);
        if (followers.size === 0) stopFollowing();
      },
    };
  }

  return {
    standingOf,
    withStanding,
    follow,
    /** Reads the followed standings again soon (this server changed a policy). */
    poke: scheduleRefresh,
    /** Tasks followed now (for tests and metrics). */
    followedCount: () => followers.size,
    dispose: () => {
      followers.clear();
      stopFollowing();
    },
  };
}
