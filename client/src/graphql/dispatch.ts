/**
 * The fair dispatcher: where waiting tasks stand, and the tenants' policies and recent starts
 * (the Tenants view).
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
import { graphql } from '../gql/index.ts';

/**
 * Where each listed task stands (lists: tasksUpdated brings new versions, this the positions in
 * between): each one's standing at once, then each change, then one of nulls when it stops waiting.
 */
export const TaskStandingsSubscription = graphql(`
  subscription TaskStandingsUpdated($ids: [ID!]!) {
    taskStandingsUpdated(ids: $ids) {
      taskId
      waitReason
      queuePosition
      estimatedStartAt
      at
    }
  }
`);

export const TenantPolicyFields = graphql(`
  fragment TenantPolicyFields on TenantPolicy {
    tenant
    weight
    maxConcurrency
    paused
    active
    waiting
  }
`);

/** How tenants share the workers (an admin: every tenant; a tenant's key: its own), and what each started lately. */
export const TenantsQuery = graphql(`
  query Tenants($minutes: Int!) {
    tenantPolicies {
      ...TenantPolicyFields
    }
    tenantActivity(minutes: $minutes) {
      tenant
      starts
      tokens
      startShare
      tokenShare
    }
  }
`);

export const SetTenantPolicyMutation = graphql(`
  mutation SetTenantPolicy($tenant: String!, $input: TenantPolicyInput!) {
    setTenantPolicy(tenant: $tenant, input: $input) {
      ...TenantPolicyFields
    }
  }
`);
