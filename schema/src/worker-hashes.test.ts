import { describe, expect, it } from 'vitest';
import { circuitCommandHash, providerCheckHash, workerHeartbeatHash } from './worker-hashes.ts';

describe('workerHeartbeatHash', () => {
  const beat = {
    id: 'w-1',
    lastHeartbeatAt: 1_700_000_000_000,
    concurrency: 4,
    activeTasks: 2,
    circuit: { state: 'OPEN' as const, failures: 7, openedAt: 1_699_999_990_000, halfOpenAt: null },
    circuitCommandId: null,
  };

  it('writes strings only, none for null, and reads back what it wrote', () => {
    const hash = workerHeartbeatHash.encode({ ...beat, pid: 42, startedAt: 1 });
    expect(Object.values(hash).every((value) => typeof value === 'string')).toBe(true);
    expect(hash).toMatchObject({ circuitHalfOpenAt: '', circuitCommandId: '', pid: '42' });
    expect(workerHeartbeatHash.decode(hash)).toEqual(beat);
  });

  it('reads what it cannot understand as defaults, never NaN, and refuses a hash with no beat time', () => {
    const decoded = workerHeartbeatHash.decode({ id: 'w-2', lastHeartbeatAt: '5', concurrency: 'lots', circuitState: 'SIDEWAYS', circuitOpenedAt: 'x' });
    expect(decoded).toEqual({
      id: 'w-2',
      lastHeartbeatAt: 5,
      concurrency: 0,
      activeTasks: 0,
      circuit: { state: 'CLOSED', failures: 0, openedAt: null, halfOpenAt: null },
      circuitCommandId: null,
    });
    expect(workerHeartbeatHash.decode({ id: 'w-3', concurrency: '1' })).toBeNull();
    expect(workerHeartbeatHash.decode({})).toBeNull();
  });
});

describe('circuitCommandHash', () => {
  it('round-trips a command and refuses an unknown action', () => {
    const command = { id: 'c-1', action: 'open' as const, at: 10 };
    expect(circuitCommandHash.decode(circuitCommandHash.encode(command))).toEqual(command);
    expect(circuitCommandHash.decode({ id: 'c-2', action: 'explode', at: '1' })).toBeNull();
    expect(circuitCommandHash.decode({})).toBeNull();
  });
});

describe('providerCheckHash', () => {
  it('round-trips a check, keeps no credit figure as null, and knows when no worker has checked', () => {
    const check = { state: 'ACTIVE' as const, creditsRemaining: null, checkedAt: 99 };
    expect(providerCheckHash.encode(check)).toEqual({ state: 'ACTIVE', creditsRemaining: '', checkedAt: '99' });
    expect(providerCheckHash.decode(providerCheckHash.encode(check))).toEqual(check);
    expect(providerCheckHash.decode({ state: 'CREDITS_EXHAUSTED', creditsRemaining: '0', checkedAt: '5' })).toEqual({ state: 'CREDITS_EXHAUSTED', creditsRemaining: 0, checkedAt: 5 });
    expect(providerCheckHash.decode({})).toBeNull();
    expect(providerCheckHash.decode({ state: 'MAYBE', checkedAt: '5' })).toBeNull();
  });
});
