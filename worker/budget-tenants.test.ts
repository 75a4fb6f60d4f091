import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { createBudgetTenants } from './budget-tenants.ts';

/** A Redis stand-in whose budgets hash the test sets (or breaks), counting reads. */
function fakeRedis() {
  const state = { fields: [] as string[], reads: 0, down: false };
  const redis = {
    hkeys: async () => {
      state.reads += 1;
      if (state.down) throw new Error('down');
      return state.fields;
    },
  } as unknown as Redis;
  return { redis, state };
}

describe('budget tenants', () => {
  it('reads the list at most every refreshMs, and takes every tenant to have a budget when it cannot read it', async () => {
    const { redis, state } = fakeRedis();
    let clock = 0;
    const tenants = createBudgetTenants({ redis, keys: createRedisKeys('t'), refreshMs: 1000, now: () => clock });
    state.fields = ['acme\tDAY'];
    expect(await tenants.has('acme')).toBe(true);
    expect(await tenants.has('globex')).toBe(false);
    expect(state.reads).toBe(1);
    state.fields = ['acme\tDAY', 'globex\tMONTH'];
    clock = 999;
    expect(await tenants.has('globex')).toBe(false);
    clock = 1000;
    expect(await tenants.has('globex')).toBe(true);
    expect(state.reads).toBe(2);
    state.down = true;
    clock = 5000;
    expect(await tenants.has('nobody')).toBe(true);
  });
});
