/**
 * Why a task changed state, as its history records it (`TaskTransition.reason`): a closed set,
 * shared by the scripts that write it and the code and tests that read it. A failed attempt's
 * reason is its error class instead (`ErrorClass`).
 */
export const TransitionReason = {
  SUBMITTED: 'submitted',
  CLAIMED: 'claimed',
  RESUMED_AFTER_SHUTDOWN: 'resumed after its worker shut down',
  RECLAIMED_AFTER_LEASE_EXPIRY: 'reclaimed after lease expiry',
  COMPLETED: 'completed',
  /** A failed attempt moved the task on to another model of its chain, with no retry counted (schema/src/model-chain.ts). */
  MODEL_SWITCH: 'switched model',
  CIRCUIT_OPEN: 'circuit open: waiting for the provider',
  RATE_LIMITED: 'rate limited: waiting for the shared limit',
  /** OpenRouter's 402 in_flight_budget_exhausted: every worker holds its calls for its Retry-After. */
  PROVIDER_HOLD: 'provider hold: in-flight budget exhausted',
  /** A task held for the breaker, made due at once because an operator reset the breakers. */
  RELEASED_BY_CIRCUIT_RESET: 'released: circuit breakers reset',
  /** A task held for the breakers, made due at once because a model's shared breaker closed (its probe answered). */
  RELEASED_MODEL_BREAKER_CLOSED: 'released: a model breaker closed',
  /** A task held for the rate limit, made due at once because the hold was lifted (pause cleared, limit raised). */
  RELEASED_RATE_LIMIT_LIFTED: 'released: rate-limit hold lifted',
  /** The tenant's spend reached a budget: the task waits for the limit to rise or the period to end. */
  BUDGET: 'BUDGET',
  CANCELLED_BY_OPERATOR: 'cancelled by operator',
  RETRIED_BY_OPERATOR: 'retried by operator',
  RETRIED_BY_OPERATOR_RESET: 'retried by operator (count reset)',
  RETRIED_FROM_DEAD_LETTERS: 'retried from the dead letter queue',
} as const;
export type TransitionReason = (typeof TransitionReason)[keyof typeof TransitionReason];
