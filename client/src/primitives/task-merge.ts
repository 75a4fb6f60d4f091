/**
 * The reducer behind every live task list: a batch of changes (tasks with versions) and
 * deletions applied to what the page holds. Versions only grow, so an older event never
 * overwrites a newer one, and the last of several changes of one task in a batch wins.
 */

export interface Versioned {
  id: string;
  version: number;
}

export type TaskChange<T extends Versioned> = { kind: 'update'; task: T } | { kind: 'delete'; id: string };

export interface MergeResult<T extends Versioned> {
  /** The newest version of each task that changed, by id. */
  updated: Map<string, T>;
  /** Ids deleted (a later update of a deleted id is ignored: deleted means gone). */
  deleted: Set<string>;
}

/**
 * Reduces a batch of changes against `known` (the versions the page has): what to write.
 * Pure: the caller applies the result to its store in one go.
 */
export function reduceTaskChanges<T extends Versioned>(known: (id: string) => T | undefined, changes: readonly TaskChange<T>[]): MergeResult<T> {
  const updated = new Map<string, T>();
  const deleted = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'delete') {
      updated.delete(change.id);
      deleted.add(change.id);
      continue;
    }
    const { task } = change;
    if (deleted.has(task.id)) continue;
    const current = updated.get(task.id) ?? known(task.id);
    if (current && current.version >= task.version) continue;
    updated.set(task.id, task);
  }
  return { updated, deleted };
}

/** A task as its page holds it: a version, and when its standing was read (null while it does not wait). */
export interface VersionedStanding extends Versioned {
  standingAt?: string | null;
}

/**
 * Whether `next` replaces `current` on a task's page. A later version always does, an older one
 * never. A standing (waitReason, queuePosition, estimatedStartAt) changes without a new version:
 * the server sends the task again with the same version and a later `standingAt`, so at the same
 * version the later standing wins, and one without a time (not waiting) is taken as it comes.
 */
export function replacesTask(current: VersionedStanding | undefined, next: VersionedStanding): boolean {
  if (!current || current.id !== next.id || next.version > current.version) return true;
  if (next.version < current.version) return false;
  if (!current.standingAt || !next.standingAt) return true;
  return Date.parse(next.standingAt) >= Date.parse(current.standingAt);
}
