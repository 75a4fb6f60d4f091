import { describe, expect, it } from 'vitest';
import { isCancellable, isRetryable, isTaskState, isWriting, TASK_STATES } from './task-states.ts';

describe('task states', () => {
  it('lists every state in the schema order', () => {
    expect(TASK_STATES).toEqual(['PENDING', 'ACTIVE', 'SCHEDULED', 'COMPLETED', 'DLQ', 'CANCELLED']);
  });

  it('offers cancel for waiting and running tasks, retry for dead-lettered and cancelled ones', () => {
    expect(TASK_STATES.filter(isCancellable)).toEqual(['PENDING', 'ACTIVE', 'SCHEDULED']);
    expect(TASK_STATES.filter(isRetryable)).toEqual(['DLQ', 'CANCELLED']);
  });

  it('follows the output of tasks that may still write some', () => {
    expect(TASK_STATES.filter(isWriting)).toEqual(['PENDING', 'ACTIVE', 'SCHEDULED']);
  });

  it('recognises only state names, and offers nothing for a state this bundle does not know', () => {
    expect(isTaskState('DLQ')).toBe(true);
    expect(isTaskState('dlq')).toBe(false);
    expect(isTaskState('toString')).toBe(false);
    expect(isTaskState(null)).toBe(false);
    const newer = 'PAUSED' as (typeof TASK_STATES)[number];
    expect([isCancellable(newer), isRetryable(newer), isWriting(newer)]).toEqual([false, false, false]);
  });
});
