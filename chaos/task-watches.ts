/**
 * Live watches of `taskUpdated` (I8): one per accepted task, on one of the pool's connections,
 * until it sees a terminal state. graphql-ws re-subscribes after a reconnect, and a watch
 * whose subscription ended early subscribes again, both with `afterVersion` set to the last
 * version seen, so a watch resumes rather than restarts.
 */
import type { SubscriberPool } from './subscribers.ts';

export const TERMINAL = new Set(['COMPLETED', 'DLQ', 'CANCELLED']);

const WATCH = 'subscription ($id: ID!, $afterVersion: Int) { taskUpdated(id: $id, afterVersion: $afterVersion) { id state version } }';

/** What one subscriber saw of one task. */
export interface Watch {
  taskId: string;
  subscriber: number;
  /** version -> state, after de-duplication by version. */
  seen: Map<number, string>;
  duplicates: number;
  /** Versions that arrived below one already seen (after de-duplication, order must hold). */
  outOfOrder: number;
  resubscribes: number;
  done: boolean;
}

export function createTaskWatches(pool: SubscriberPool, random: () => number) {
  const watches = new Map<string, Watch>();

  /** Watches `taskId` on connection `index` until it sees a terminal state. */
  function watch(taskId: string, index: number): void {
    const record: Watch = { taskId, subscriber: index, seen: new Map(), duplicates: 0, outOfOrder: 0, resubscribes: 0, done: false };
    watches.set(taskId, record);
    // graphql-ws re-sends this same payload object after a reconnect: keeping afterVersion
    // current in it makes every re-subscription resume after the last version seen.
    const variables: { id: string; afterVersion: number | null } = { id: taskId, afterVersion: null };
    let last = 0;
    const subscribe = () => {
      if (pool.isClosed() || record.done) return;
      let dispose: () => void = () => undefined;
      let ended = false;
      const again = () => {
        if (ended) return;
        ended = true;
        if (!record.done && !pool.isClosed()) {
          record.resubscribes += 1;
          setTimeout(subscribe, 200 + random() * 300);
        }
      };
      dispose = pool.clients[index]!.subscribe<{ taskUpdated: { id: string; state: string; version: number } }>(
        { query: WATCH, variables },
        {
          next: (result) => {
            const task = result.data?.taskUpdated;
            if (!task) return;
            if (record.seen.has(task.version)) {
              record.duplicates += 1;
              return;
            }
            if (task.version < last) record.outOfOrder += 1;
            record.seen.set(task.version, task.state);
            last = Math.max(last, task.version);
            variables.afterVersion = last;
            if (TERMINAL.has(task.state)) {
              record.done = true;
              ended = true;
              dispose();
            }
          },
          // An error (say UNAVAILABLE while Redis restarts) or an end before the terminal state.
          error: again,
          complete: again,
        },
      );
    };
    subscribe();
  }

  return {
    watches,
    watch,
    /** The terminal state the task's watch saw, if it saw one yet. */
    terminalStateOf(taskId: string): string | undefined {
      const seen = watches.get(taskId)?.seen;
      return seen ? [...seen.values()].find((state) => TERMINAL.has(state)) : undefined;
    },
    pending: () => [...watches.values()].filter((w) => !w.done),
  };
}
