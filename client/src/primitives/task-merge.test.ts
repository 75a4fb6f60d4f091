import { describe, expect, it } from 'vitest';
import { reduceTaskChanges, replacesTask, type TaskChange, type Versioned } from './task-merge.ts';

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

describe('replacesTask', () => {
  const at = (second: number) => `2026-01-01T12:00:${String(second).padStart(2, '0')}.000Z`;
  const standing = (version: number, standingAt: string | null) => ({ id: 'a', version, standingAt });

  it('takes a later version and never an older one, whatever their standings', () => {
    expect(replacesTask(undefined, standing(1, null))).toBe(true);
    expect(replacesTask(standing(3, at(9)), standing(4, null))).toBe(true);
    expect(replacesTask(standing(3, at(1)), standing(2, at(9)))).toBe(false);
    expect(replacesTask(standing(3, null), { id: 'b', version: 1, standingAt: null })).toBe(true);
  });

  it('at the same version, takes a standing read later (or as late), not one read earlier', () => {
    expect(replacesTask(standing(3, at(5)), standing(3, at(6)))).toBe(true);
    expect(replacesTask(standing(3, at(5)), standing(3, at(5)))).toBe(true);
    expect(replacesTask(standing(3, at(6)), standing(3, at(5)))).toBe(false);
    // Without a time on either side there is nothing to order by: the newest message wins.
    expect(replacesTask(standing(3, at(6)), standing(3, null))).toBe(true);
    expect(replacesTask(standing(3, null), standing(3, at(1)))).toBe(true);
  });
});
