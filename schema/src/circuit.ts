/** Circuit breaker states as workers report them and operators command them. */

export const CircuitState = { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' } as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

export interface CircuitSnapshot {
  state: CircuitState;
  /** Provider failures counted since the breaker last closed. */
  failures: number;
  openedAt: number | null;
  /** When an open breaker lets one probe call through. */
  halfOpenAt: number | null;
}

/** An operator's command to every worker's breaker; each command has its own id. */
export const CircuitCommand = { RESET: 'reset', OPEN: 'open' } as const;
export type CircuitCommand = (typeof CircuitCommand)[keyof typeof CircuitCommand];
