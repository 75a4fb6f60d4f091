/**
 * Which tenants have a budget, as the worker last read it: a call for a tenant without one
 * needs no reservation, which saves a script call per task. The list is read again at most every
 * `refreshMs` (a budget set meanwhile holds calls from the next read on; the create script checks
 * new submits at once), and when it cannot be read every tenant is taken to have one.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { parseBudgetField } from '../schema/src/scripts/budgets.ts';

export function createBudgetTenants(options: { redis: Redis; keys: RedisKeys; refreshMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  let tenants: ReadonlySet<string> | null = null;
  let readAt = -Infinity;
  let reading: Promise<ReadonlySet<string> | null> | null = null;

  async function read(): Promise<ReadonlySet<string> | null> {
    try {
      const fields = await options.redis.hkeys(options.keys.budgets());
      return new Set(fields.flatMap((field) => parseBudgetField(field)?.tenant ?? []));
    } catch {
      return null;
    }
  }

  return {
    /** Whether `tenant` may have a budget (true when the list could not be read). */
    async has(tenant: string): Promise<boolean> {
      if (now() - readAt >= options.refreshMs) {
        reading ??= read().finally(() => (reading = null));
        const fresh = await reading;
        tenants = fresh;
        readAt = fresh ? now() : -Infinity;
      }
      return tenants === null || tenants.has(tenant);
    },
  };
}
