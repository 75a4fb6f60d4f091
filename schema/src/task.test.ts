import { describe, expect, it } from 'vitest';
import { parseTaskHash, parseTaskState, TASK_STATES } from './task.ts';

describe('parseTaskState', () => {
  it('reads every state the scripts write', () => {
    for (const state of TASK_STATES) expect(parseTaskState(state)).toBe(state);
  });

  it('names no state for a value it does not know, however close', () => {
    for (const value of ['', 'pending', 'PAUSED', ' ACTIVE', 'ACTIVE\n', 'toString', '__proto__']) expect(parseTaskState(value), value).toBeUndefined();
  });
});

describe('parseTaskHash: the dispatcher fields', () => {
  const stored = { id: 'a', tenant: 't', type: 'SUMMARIZE', state: 'PENDING', version: '1', progress: '0', retryCount: '0', maxRetries: '3', attempt: '0', createdAt: '1', updatedAt: '1' };

  it('reads priority, cost, line and wait reason as the scripts write them', () => {
    expect(parseTaskHash({ ...stored, priority: 'HIGH', cost: '1124', queued: 'retry', waitReason: 'CIRCUIT_OPEN' })).toMatchObject({
      priority: 'HIGH',
      cost: 1124,
      queued: 'retry',
      waitReason: 'CIRCUIT_OPEN',
    });
  });

  it('gives a task from before the dispatcher NORMAL priority and no line, cost or reason', () => {
    expect(parseTaskHash(stored)).toMatchObject({ priority: 'NORMAL', cost: null, queued: null, waitReason: null });
  });

  it('reads a cleared field (written as an empty string) and a value it does not know as absent, without failing', () => {
    expect(parseTaskHash({ ...stored, priority: 'URGENT', cost: '', queued: '', waitReason: 'SOMETHING_NEW' })).toMatchObject({
      priority: 'NORMAL',
      cost: null,
      queued: null,
      waitReason: null,
    });
  });
});
