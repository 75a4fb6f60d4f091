import { describe, expect, it } from 'vitest';
import { createStateWatch } from './state-watch.ts';
import { formatShare, policyInputFrom, policyProblemOf, tenantRows } from './tenants-model.ts';

describe('tenantRows', () => {
  it("joins each tenant's policy with its activity, by name; defaults for a tenant known only by its starts", () => {
    const rows = tenantRows(
      [
        { tenant: 'globex', weight: 3, maxConcurrency: 2, paused: false, active: 2, waiting: 7 },
        { tenant: 'acme', weight: 1, maxConcurrency: null, paused: true, active: 0, waiting: 4 },
      ],
      [
        { tenant: 'globex', starts: 30, tokens: 90_000, startShare: 0.75, tokenShare: 0.9 },
        { tenant: 'initech', starts: 10, tokens: 10_000, startShare: 0.25, tokenShare: 0.1 },
      ],
    );
    expect(rows).toEqual([
      { tenant: 'acme', weight: 1, maxConcurrency: null, paused: true, active: 0, waiting: 4, starts: 0, tokens: 0, startShare: 0, tokenShare: 0 },
      { tenant: 'globex', weight: 3, maxConcurrency: 2, paused: false, active: 2, waiting: 7, starts: 30, tokens: 90_000, startShare: 0.75, tokenShare: 0.9 },
      { tenant: 'initech', weight: 1, maxConcurrency: null, paused: false, active: 0, waiting: 0, starts: 10, tokens: 10_000, startShare: 0.25, tokenShare: 0.1 },
    ]);
    expect(tenantRows([], [])).toEqual([]);
  });

  it('shows shares as whole percentages', () => {
    expect([0, 0.004, 0.625, 1, 1.2].map(formatShare)).toEqual(['0%', '0%', '63%', '100%', '100%']);
  });
});

describe('policyInputFrom', () => {
  it('keeps the weight when blank, removes the cap when blank, and sends paused as shown', () => {
    expect(policyInputFrom({ weight: '', cap: '', paused: false })).toEqual({ input: { maxConcurrency: null, paused: false } });
    expect(policyInputFrom({ weight: ' 3 ', cap: '10', paused: true })).toEqual({ input: { weight: 3, maxConcurrency: 10, paused: true } });
  });

  it("leaves ranges to the server but refuses what is not a whole number, naming the field", () => {
    expect(policyInputFrom({ weight: '0', cap: '-1', paused: false })).toEqual({ input: { weight: 0, maxConcurrency: -1, paused: false } });
    expect(policyInputFrom({ weight: '1.5', cap: '', paused: false })).toEqual({ problem: { field: 'weight', message: 'The weight is a whole number.' } });
    expect(policyInputFrom({ weight: '2', cap: 'lots', paused: false })).toMatchObject({ problem: { field: 'maxConcurrency' } });
    expect(policyInputFrom({ weight: '99999999999', cap: '', paused: false })).toMatchObject({ problem: { field: 'weight' } });
  });
});

describe('policyProblemOf', () => {
  it("reads the field a BAD_USER_INPUT names, and the server's message", () => {
    const refusal = (code: string, reason?: string) => ({
      message: '[GraphQL] nope',
      graphQLErrors: [{ message: 'weight must be an integer from 1 to 1000 (leave it out to keep it)', extensions: { code, details: reason ? { reason } : undefined } }],
    });
    expect(policyProblemOf(refusal('BAD_USER_INPUT', 'weight'))).toEqual({ field: 'weight', message: 'weight must be an integer from 1 to 1000 (leave it out to keep it)' });
    expect(policyProblemOf(refusal('BAD_USER_INPUT', 'maxConcurrency')).field).toBe('maxConcurrency');
    expect(policyProblemOf(refusal('BAD_USER_INPUT', 'somethingElse')).field).toBeNull();
    expect(policyProblemOf(refusal('FORBIDDEN', 'weight')).field).toBeNull();
    expect(policyProblemOf({ message: '[Network] Failed to fetch', graphQLErrors: [] })).toEqual({ field: null, message: '[Network] Failed to fetch' });
  });
});

describe('createStateWatch', () => {
  it('answers whether a task entered a state the watch cares about: every state, for the Tenants view', () => {
    const moved = createStateWatch(() => true);
    expect(moved([{ id: 't1', state: 'PENDING' }])).toBe(true);
    expect(moved([{ id: 't1', state: 'PENDING' }])).toBe(false);
    expect(moved([{ id: 't1', state: 'ACTIVE' }])).toBe(true);
    expect(moved([{ id: 't1', state: 'COMPLETED' }])).toBe(true);
  });
});
