/** The provider's status as workers check it and the API reports it. */

export const ProviderState = {
  ACTIVE: 'ACTIVE',
  LOCAL: 'LOCAL',
  KEY_MISSING: 'KEY_MISSING',
  KEY_INVALID: 'KEY_INVALID',
  CREDITS_EXHAUSTED: 'CREDITS_EXHAUSTED',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type ProviderState = (typeof ProviderState)[keyof typeof ProviderState];

export interface ProviderStatusSnapshot {
  state: ProviderState;
  creditsRemaining: number | null;
  rateLimitedUntil: number | null;
  checkedAt: number;
}
