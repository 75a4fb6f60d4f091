/**
 * Spend and budgets: the Spend card and the budget form.
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
import { graphql } from '../gql/index.ts';

export const BudgetFields = graphql(`
  fragment BudgetFields on Budget {
    tenant
    period
    limitUsd
    spentUsd
    reservedUsd
    resetsAt
  }
`);

/**
 * Spend per tenant, model and UTC day in a range, and the budgets the caller may see (a
 * tenant's key: its own). Every other view of spend (per tenant, per model, the totals) is
 * added up from these rows in the client (spend-model.ts).
 */
export const SpendQuery = graphql(`
  query Spend($from: DateTime!, $to: DateTime!) {
    usage(from: $from, to: $to, groupBy: [TENANT, MODEL, DAY]) {
      tenant
      model
      day
      tasks
      calls
      promptTokens
      completionTokens
      costUsd
    }
    budgets {
      ...BudgetFields
    }
  }
`);

export const SetBudgetMutation = graphql(`
  mutation SetBudget($tenant: String!, $period: BudgetPeriod!, $limitUsd: Float) {
    setBudget(tenant: $tenant, period: $period, limitUsd: $limitUsd) {
      ...BudgetFields
    }
  }
`);
