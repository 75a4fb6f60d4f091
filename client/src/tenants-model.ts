/**
 * The Tenants view's arithmetic, pure: each tenant's policy (weight, cap, paused) and counts
 * (running, waiting) joined with what it started over the last minutes (`tenantActivity`), the
 * policy form read into a `TenantPolicyInput`, and the server's refusal of a change read into the
 * field it names.
 */
import type { TenantPolicyFieldsFragment, TenantPolicyInput, TenantsQuery } from './gql/graphql.ts';

export type TenantPolicy = TenantPolicyFieldsFragment;
export type TenantActivity = TenantsQuery['tenantActivity'][number];

/** One row of the view: a tenant's policy and counts, and its starts and tokens over the window. */
export interface TenantRow extends TenantPolicy {
  starts: number;
  tokens: number;
  /** Its part of every tenant's starts in the window, 0 to 1. */
  startShare: number;
  tokenShare: number;
}

/** The windows the view offers for the shares, in minutes (the server keeps an hour). */
export const ACTIVITY_MINUTES = [5, 15, 60] as const;
export type ActivityMinutes = (typeof ACTIVITY_MINUTES)[number];

/** A tenant without a policy has these (docs/dispatch.md); one not listed has no work either. */
const DEFAULT_POLICY = { weight: 1, maxConcurrency: null, paused: false, active: 0, waiting: 0 } as const;

/**
 * Every tenant of either list, by name. A tenant that started tasks in the window but has no
 * policy and no work now is not among the policies: it has the default policy and nothing
 * running or waiting. A tenant with nothing started in the window has no activity row: zeros.
 */
export function tenantRows(policies: readonly TenantPolicy[], activity: readonly TenantActivity[]): TenantRow[] {
  const started = new Map(activity.map((row) => [row.tenant, row]));
  const names = [...new Set([...policies.map((policy) => policy.tenant), ...activity.map((row) => row.tenant)])].sort();
  const policyOf = new Map(policies.map((policy) => [policy.tenant, policy]));
  return names.map((tenant) => {
    const policy = policyOf.get(tenant) ?? { tenant, ...DEFAULT_POLICY };
    const window = started.get(tenant);
    return {
      tenant,
      weight: policy.weight,
      maxConcurrency: policy.maxConcurrency,
      paused: policy.paused,
      active: policy.active,
      waiting: policy.waiting,
      starts: window?.starts ?? 0,
      tokens: window?.tokens ?? 0,
      startShare: window?.startShare ?? 0,
      tokenShare: window?.tokenShare ?? 0,
    };
  });
}

/** The fields of a policy the server may name in a refusal (`details.reason`). */
export type PolicyField = 'tenant' | 'weight' | 'maxConcurrency' | 'paused';
const POLICY_FIELDS: readonly string[] = ['tenant', 'weight', 'maxConcurrency', 'paused'] satisfies PolicyField[];

/** What went wrong with a change, and which field it was about (null: not one field). */
export interface PolicyProblem {
  field: PolicyField | null;
  message: string;
}

/** A failed setTenantPolicy as a problem: the server's message, and the field a BAD_USER_INPUT names. */
export function policyProblemOf(error: { graphQLErrors: readonly { message: string; extensions?: Record<string, unknown> }[]; message: string }): PolicyProblem {
  const first = error.graphQLErrors[0];
  if (!first) return { field: null, message: error.message };
  const reason = (first.extensions?.details as { reason?: unknown } | undefined)?.reason;
  const field = first.extensions?.code === 'BAD_USER_INPUT' && typeof reason === 'string' && POLICY_FIELDS.includes(reason) ? (reason as PolicyField) : null;
  return { field, message: first.message };
}

// GraphQL's Int is 32 bits: a larger whole number would be refused before the server's own check.
const isInt = (text: string) => /^-?\d+$/.test(text) && Math.abs(Number(text)) <= 2 ** 31 - 1;

/**
 * The policy form as a change: a blank weight keeps the tenant's weight, a blank cap means no
 * cap (null), paused is sent as shown. Only whole numbers are checked here; their range is the
 * server's rule, and its refusal names the field (policyProblemOf).
 */
export function policyInputFrom(form: { weight: string; cap: string; paused: boolean }): { input: TenantPolicyInput } | { problem: PolicyProblem } {
  const weight = form.weight.trim();
  const cap = form.cap.trim();
  if (weight !== '' && !isInt(weight)) return { problem: { field: 'weight', message: 'The weight is a whole number.' } };
  if (cap !== '' && !isInt(cap)) return { problem: { field: 'maxConcurrency', message: 'The cap is a whole number, or blank for no cap.' } };
  return {
    input: {
      ...(weight === '' ? {} : { weight: Number(weight) }),
      maxConcurrency: cap === '' ? null : Number(cap),
      paused: form.paused,
    },
  };
}

/** A share (0 to 1) as a percentage with no decimals: "62%". */
export const formatShare = (share: number): string => `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
