/**
 * The circuit breaker around provider calls (cockatiel, sampling): when too many calls fail
 * for reasons that say the provider is unwell, calls stop for CIRCUIT_TIMEOUT, then one probe
 * decides. Failures that are the request's fault (4xx, content filter) or a rate limit do not
 * count. Operators reset or force it open on every worker through a command stored in Redis.
 *
 * cockatiel has no reset: a reset builds a fresh breaker.
 */
import { BrokenCircuitError, CircuitState as BreakerState, circuitBreaker, handleWhen, SamplingBreaker, type CircuitBreakerPolicy, type IDisposable } from 'cockatiel';
import { CircuitState, type CircuitSnapshot } from '../schema/src/circuit.ts';
import { isProviderError } from '../schema/src/errors.ts';
import { ModelCallOutcome } from '../schema/src/model-breakers.ts';
import { ErrorClass } from '../schema/src/task.ts';

export interface CircuitSettings {
  /** Share of failed calls in the window that opens the breaker (CIRCUIT_FAILURE_THRESHOLD). */
  failureRatio: number;
  /** Calls in the window before the ratio counts (CIRCUIT_VOLUME_THRESHOLD). */
  volumeThreshold: number;
  /** Open this long before a half-open probe (CIRCUIT_TIMEOUT, seconds, as ms here). */
  openMs: number;
  /** The sampling window. */
  windowMs: number;
}

const PROVIDER_UNWELL: ReadonlySet<ErrorClass> = new Set([
  ErrorClass.SERVICE_UNAVAILABLE,
  ErrorClass.NETWORK_TIMEOUT,
  ErrorClass.PROVIDER_ERROR,
  ErrorClass.MODEL_WARMUP,
]);

/** Whether a failure says something about the provider's health. */
export const countsAgainstProvider = (error: unknown): boolean => isProviderError(error) && PROVIDER_UNWELL.has(error.errorClass);

/**
 * What a failed call tells its model's breaker: `failed` when it says the model is unwell,
 * `other` for anything else, a call aborted by cancel, shutdown or a lost lease included.
 */
export const modelOutcomeOf = (error: unknown, aborted: boolean): ModelCallOutcome =>
  !aborted && countsAgainstProvider(error) ? ModelCallOutcome.FAILED : ModelCallOutcome.OTHER;

export const isCircuitOpenError = (error: unknown): error is BrokenCircuitError => error instanceof BrokenCircuitError;

export type ProviderCircuit = ReturnType<typeof createProviderCircuit>;

export function createProviderCircuit(settings: CircuitSettings, onChange: () => void = () => undefined) {
  let failures = 0;
  let resets = 0;
  let openedAt: number | null = null;
  let isolation: IDisposable | null = null;
  let subscriptions: IDisposable[] = [];
  let policy: CircuitBreakerPolicy = build();

  function build(): CircuitBreakerPolicy {
    subscriptions.forEach((subscription) => subscription.dispose());
    const built = circuitBreaker(handleWhen(countsAgainstProvider), {
      halfOpenAfter: settings.openMs,
      breaker: new SamplingBreaker({
        threshold: settings.failureRatio,
        duration: settings.windowMs,
        minimumRps: settings.volumeThreshold / (settings.windowMs / 1000),
      }),
    });
    subscriptions = [
      built.onFailure(({ handled }) => {
        if (handled) failures += 1;
      }),
      built.onBreak(() => {
        openedAt = Date.now();
      }),
      built.onReset(() => {
        failures = 0;
        openedAt = null;
      }),
      // onStateChange fires after the new state is set (onHalfOpen fires before it).
      built.onStateChange(() => onChange()),
    ];
    return built;
  }

  return {
    /** Runs `call` unless the breaker is open (then rejects with BrokenCircuitError at once). */
    execute<T>(call: () => Promise<T>): Promise<T> {
      return policy.execute(() => call());
    },
    snapshot(): CircuitSnapshot {
      const halfOpenAt = policy.state === BreakerState.Open && !isolation && openedAt !== null ? openedAt + settings.openMs : null;
      // cockatiel moves to half-open only when the next call arrives; once the probe time has
      // passed, the next call is the probe, so that is what is reported.
      const state =
        policy.state === BreakerState.Closed
          ? CircuitState.CLOSED
          : policy.state === BreakerState.HalfOpen || (halfOpenAt !== null && halfOpenAt <= Date.now())
            ? CircuitState.HALF_OPEN
            : CircuitState.OPEN;
      return {
        state,
        failures,
        openedAt: state === CircuitState.CLOSED ? null : openedAt,
        // A forced-open (isolated) breaker has no automatic half-open.
        halfOpenAt: state === CircuitState.OPEN ? halfOpenAt : null,
      };
    },
    /** True while calls would be refused outright (open, before its probe time, or forced). */
    refusesCalls(): boolean {
      return this.snapshot().state === CircuitState.OPEN;
    },
    /** How many times `reset` ran: a change tells a caller a reset came in between. */
    resets(): number {
      return resets;
    },
    /** Closed, with its counts cleared. */
    reset(): void {
      resets += 1;
      isolation?.dispose();
      isolation = null;
      failures = 0;
      openedAt = null;
      policy = build();
      onChange();
    },
    /** Open until reset, whatever the calls do. */
    forceOpen(): void {
      if (isolation) return;
      openedAt = Date.now();
      isolation = policy.isolate();
    },
  };
}
