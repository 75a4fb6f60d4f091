/**
 * The provider circuit breaker (worker/resilience.ts) through its public API, on vitest's fake
 * clock: when it opens, when it lets a probe through, what the probe decides, and an
 * operator's forced open and reset. No real waiting: time moves only by advanceTimersByTime.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError, type ScheduledErrorClass } from '../schema/src/errors.ts';
import { CircuitState } from '../schema/src/circuit.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { createProviderCircuit, isCircuitOpenError, type CircuitSettings } from './resilience.ts';

// Opens once 3 calls were seen in the window and more than half of them failed; probes after 800 ms.
const SETTINGS: CircuitSettings = { failureRatio: 0.5, volumeThreshold: 3, openMs: 800, windowMs: 10_000 };

const unwell = (errorClass: ScheduledErrorClass = ErrorClass.SERVICE_UNAVAILABLE) => new ProviderError(errorClass, 'provider says no', { httpStatus: 503 });

function setup(settings: CircuitSettings = SETTINGS) {
  const changes: string[] = [];
  const circuit = createProviderCircuit(settings, () => changes.push(circuit.snapshot().state));
  const calls = { made: 0 };
  const succeed = () =>
    circuit.execute(async () => {
      calls.made += 1;
      return 'ok';
    });
  const fail = (error: Error = unwell()) =>
    circuit
      .execute(async () => {
        calls.made += 1;
        throw error;
      })
      .catch((caught: unknown) => caught);
  return { circuit, changes, calls, succeed, fail };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('provider circuit breaker', () => {
  it('stays closed below the volume threshold, however many of those calls failed', async () => {
    const { circuit, fail } = setup();
    await fail();
    await fail();
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.CLOSED, failures: 2 });
    expect(circuit.refusesCalls()).toBe(false);
  });

  it('opens on the failure that takes the window past the threshold, and refuses calls without making them', async () => {
    const { circuit, changes, calls, succeed, fail } = setup();
    await succeed();
    await fail();
    await fail();
    // Three calls (the volume threshold), two of them failed: more than half.
    expect(circuit.snapshot().state).toBe(CircuitState.OPEN);
    expect(changes).toEqual([CircuitState.OPEN]);
    const openedAt = Date.now();
    expect(circuit.snapshot()).toEqual({ state: CircuitState.OPEN, failures: 2, openedAt, halfOpenAt: openedAt + SETTINGS.openMs });
    expect(circuit.refusesCalls()).toBe(true);

    const before = calls.made;
    expect(isCircuitOpenError(await succeed().catch((error: unknown) => error))).toBe(true);
    expect(calls.made).toBe(before);
  });

  it('does not count failures that are the request\'s fault or a rate limit', async () => {
    const { circuit, fail } = setup();
    for (const errorClass of [ErrorClass.PERMANENT, ErrorClass.CONTENT_FILTER, ErrorClass.RATE_LIMIT, ErrorClass.INSUFFICIENT_CREDITS]) {
      await fail(unwell(errorClass));
    }
    await fail(new Error('a bug, not the provider'));
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.CLOSED, failures: 0 });
  });

  it('half-opens after the configured time, not before: the next call is the probe', async () => {
    const { circuit, calls, succeed, fail } = setup();
    for (let i = 0; i < 3; i += 1) await fail();
    const made = calls.made;
    vi.advanceTimersByTime(SETTINGS.openMs - 1);
    expect(circuit.snapshot().state).toBe(CircuitState.OPEN);
    expect(circuit.refusesCalls()).toBe(true);
    expect(isCircuitOpenError(await succeed().catch((error: unknown) => error))).toBe(true);
    expect(calls.made).toBe(made);
    vi.advanceTimersByTime(1);
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.HALF_OPEN, halfOpenAt: null });
    expect(circuit.refusesCalls()).toBe(false);
    // The breaker itself lets it through (not only the snapshot saying so).
    expect(await succeed()).toBe('ok');
    expect(calls.made).toBe(made + 1);
  });

  it('closes on a successful probe, with its counts cleared', async () => {
    const { circuit, changes, calls, succeed, fail } = setup();
    for (let i = 0; i < 3; i += 1) await fail();
    vi.advanceTimersByTime(SETTINGS.openMs);
    const before = calls.made;
    expect(await succeed()).toBe('ok');
    expect(calls.made).toBe(before + 1);
    expect(circuit.snapshot()).toEqual({ state: CircuitState.CLOSED, failures: 0, openedAt: null, halfOpenAt: null });
    expect(changes.at(-1)).toBe(CircuitState.CLOSED);
    // The window restarts at the probe: with the three failures before the break still in it,
    // one more failure would open it again (4 of 5); now it is one of two calls, below the volume.
    await fail();
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.CLOSED, failures: 1 });
  });

  it('re-opens on a failed probe, for another full open period from the probe', async () => {
    const { circuit, changes, fail } = setup();
    for (let i = 0; i < 3; i += 1) await fail();
    vi.advanceTimersByTime(SETTINGS.openMs + 500);
    const probedAt = Date.now();
    await fail();
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.OPEN, openedAt: probedAt, halfOpenAt: probedAt + SETTINGS.openMs });
    expect(changes.filter((state) => state === CircuitState.OPEN).length).toBeGreaterThanOrEqual(2);
    vi.advanceTimersByTime(SETTINGS.openMs - 1);
    expect(circuit.refusesCalls()).toBe(true);
    vi.advanceTimersByTime(1);
    expect(circuit.snapshot().state).toBe(CircuitState.HALF_OPEN);
  });

  it('stays open when forced (an operator\'s open command), with no probe, until reset', async () => {
    const { circuit, changes, calls, succeed } = setup();
    circuit.forceOpen();
    const forcedAt = Date.now();
    expect(circuit.snapshot()).toEqual({ state: CircuitState.OPEN, failures: 0, openedAt: forcedAt, halfOpenAt: null });
    // Far past any probe time: still refusing, and nothing reaches the provider.
    vi.advanceTimersByTime(SETTINGS.openMs * 100);
    expect(circuit.refusesCalls()).toBe(true);
    expect(isCircuitOpenError(await succeed().catch((error: unknown) => error))).toBe(true);
    expect(calls.made).toBe(0);
    // A second open command changes nothing (the first one's time stands).
    circuit.forceOpen();
    expect(circuit.snapshot().openedAt).toBe(forcedAt);

    // The operator's reset: closed, counts cleared, calls go through, announced.
    circuit.reset();
    expect(circuit.snapshot()).toEqual({ state: CircuitState.CLOSED, failures: 0, openedAt: null, halfOpenAt: null });
    expect(changes.at(-1)).toBe(CircuitState.CLOSED);
    expect(await succeed()).toBe('ok');
  });

  it('resets an open breaker (one opened by failures) to closed with its counts cleared', async () => {
    const { circuit, succeed, fail } = setup();
    for (let i = 0; i < 3; i += 1) await fail();
    circuit.reset();
    expect(circuit.snapshot()).toEqual({ state: CircuitState.CLOSED, failures: 0, openedAt: null, halfOpenAt: null });
    // The window starts empty: two failures are below the volume again.
    await fail();
    await fail();
    expect(circuit.snapshot()).toMatchObject({ state: CircuitState.CLOSED, failures: 2 });
    expect(await succeed()).toBe('ok');
  });
});
