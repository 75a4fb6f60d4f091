import { describe, expect, it } from 'vitest';
import { reduceTaskChanges, type TaskChange, type Versioned } from './task-merge.ts';

type T = Versioned & { state: string };
const task = (id: string, version: number, state = 'ACTIVE'): T => ({ id, version, state });

describe('reduceTaskChanges', () => {
  it('keeps the newest version of each task, whatever the arrival order', () => {
    const known = new Map([['a', task('a', 5)]]);
    const changes: TaskChange<T>[] = [
      { kind: 'update', task: task('a', 7) },
      { kind: 'update', task: task('a', 6) },
      { kind: 'update', task: task('a', 4) },
      { kind: 'update', task: task('b', 1, 'PENDING') },
      { kind: 'update', task: task('b', 2) },
    ];
    const { updated, deleted } = reduceTaskChanges((id) => known.get(id), changes);
    expect([...updated.values()]).toEqual([task('a', 7), task('b', 2)]);
    expect(deleted.size).toBe(0);
  });

  it('changes nothing for a version the page already has', () => {
    const known = new Map([['a', task('a', 5)]]);
    expect(reduceTaskChanges((id) => known.get(id), [{ kind: 'update', task: task('a', 5) }]).updated.size).toBe(0);
  });

  it('treats deleted as gone: a late update of a deleted task is ignored', () => {
    const { updated, deleted } = reduceTaskChanges<T>(() => undefined, [
      { kind: 'update', task: task('a', 2) },
      { kind: 'delete', id: 'a' },
      { kind: 'update', task: task('a', 3) },
    ]);
    expect(updated.size).toBe(0);
    expect([...deleted]).toEqual(['a']);
  });
});
