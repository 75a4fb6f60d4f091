import { describe, expect, it } from 'vitest';
import { parseTaskState, TASK_STATES } from './task.ts';

describe('parseTaskState', () => {
  it('reads every state the scripts write', () => {
    for (const state of TASK_STATES) expect(parseTaskState(state)).toBe(state);
  });

  it('names no state for a value it does not know, however close', () => {
    for (const value of ['', 'pending', 'PAUSED', ' ACTIVE', 'ACTIVE\n', 'toString', '__proto__']) expect(parseTaskState(value), value).toBeUndefined();
  });
});
