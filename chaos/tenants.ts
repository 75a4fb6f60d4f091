/**
 * The tenants of a chaos run and their API keys: four tenants with unequal shares of the load
 * (one floods), priorities mixed, and an admin key for the policy events (chaos/policies.ts).
 * The servers get these keys as API_KEYS, so every request and every live connection carries
 * a tenant's key, and the audit checks that each task stayed its submitter's.
 */

export interface ChaosTenant {
  name: string;
  /** Its part of the new submissions (the shares add up to 1). */
  share: number;
  key: string;
}

export const CHAOS_TENANTS: readonly ChaosTenant[] = [
  { name: 'flood', share: 0.55, key: 'chaos-flood-key-0123456789' },
  { name: 'steady', share: 0.25, key: 'chaos-steady-key-012345678' },
  { name: 'light', share: 0.15, key: 'chaos-light-key-0123456789' },
  { name: 'rare', share: 0.05, key: 'chaos-rare-key-01234567890' },
];

/** The operator: sets weights, caps and pauses (the admin scope), submits nothing. */
export const CHAOS_ADMIN = { tenant: 'ops', key: 'chaos-admin-key-0123456789' } as const;

/** Priorities of new submissions: mostly NORMAL. */
export const PRIORITY_SHARES = [
  { priority: 'HIGH', share: 0.15 },
  { priority: 'NORMAL', share: 0.7 },
  { priority: 'LOW', share: 0.15 },
] as const;

export type ChaosPriority = (typeof PRIORITY_SHARES)[number]['priority'];

/** The servers' API_KEYS: one read-write key per tenant and the admin's. */
export function chaosApiKeys(): string {
  return JSON.stringify([
    ...CHAOS_TENANTS.map(({ key, name }) => ({ key, tenant: name, scopes: ['tasks:read', 'tasks:write'] })),
    { key: CHAOS_ADMIN.key, tenant: CHAOS_ADMIN.tenant, scopes: ['admin', 'tasks:read', 'tasks:write'] },
  ]);
}

/** The item a roll in [0, 1) falls on, by share. */
export function byShare<T extends { share: number }>(items: readonly T[], roll: number): T {
  let left = roll;
  for (const item of items) {
    left -= item.share;
    if (left < 0) return item;
  }
  return items.at(-1)!;
}
