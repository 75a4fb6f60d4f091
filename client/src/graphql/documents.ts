/** Every operation the web app sends. Codegen turns each into a typed document in ../gql. */
import { graphql } from '../gql/index.ts';

export const TaskSummaryFields = graphql(`
  fragment TaskSummaryFields on Task {
    id
    type
    state
    version
    progress
    retryCount
    maxRetries
    createdAt
    updatedAt
    completedAt
    priority
  }
`);

export const TaskDetailFields = graphql(`
  fragment TaskDetailFields on Task {
    ...TaskSummaryFields
    content
    result
    startedAt
    nextAttemptAt
    workerId
    waitReason
    queuePosition
    estimatedStartAt
    standingAt
    traceId
    usage {
      model
      promptTokens
      completionTokens
      totalTokens
      costUsd
      cachedTokens
      reasoningTokens
      calls
      estimated
      perCall {
        attempt
        model
        chainIndex
        switchReason
        generationId
        promptTokens
        completionTokens
        costUsd
        estimated
        at
      }
    }
    errors {
      errorClass
      message
      httpStatus
      attempt
      at
      nextAttemptAt
    }
    history {
      state
      at
      workerId
      reason
      version
      model
      chainIndex
      switchReason
    }
  }
`);

export const SubmitTaskMutation = graphql(`
  mutation SubmitTask($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      ...TaskSummaryFields
    }
  }
`);

export const RecentTasksQuery = graphql(`
  query RecentTasks($first: Int!) {
    tasks(first: $first) {
      totalCount
      nodes {
        ...TaskSummaryFields
      }
    }
  }
`);

export const TaskDetailQuery = graphql(`
  query TaskDetail($id: ID!) {
    task(id: $id) {
      ...TaskDetailFields
    }
  }
`);

export const TaskUpdatedSubscription = graphql(`
  subscription TaskUpdated($id: ID!) {
    taskUpdated(id: $id) {
      ...TaskDetailFields
    }
  }
`);

export const TasksUpdatedSubscription = graphql(`
  subscription TasksUpdated {
    tasksUpdated {
      ...TaskSummaryFields
    }
  }
`);

export const QueueStatusSubscription = graphql(`
  subscription QueueStatusUpdated {
    queueStatusUpdated {
      primary
      retry
      scheduled
      dlq
      retryRatio
      states {
        state
        count
      }
    }
  }
`);

export const CancelTaskMutation = graphql(`
  mutation CancelTask($id: ID!) {
    cancelTask(id: $id) {
      id
      state
      version
    }
  }
`);

export const RetryTaskMutation = graphql(`
  mutation RetryTask($id: ID!, $resetRetryCount: Boolean) {
    retryTask(id: $id, resetRetryCount: $resetRetryCount) {
      id
      state
      version
    }
  }
`);

export const DeleteTaskMutation = graphql(`
  mutation DeleteTask($id: ID!) {
    deleteTask(id: $id)
  }
`);

export const TaskDeletedSubscription = graphql(`
  subscription TaskDeleted {
    taskDeleted
  }
`);

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      tenant
      scopes
      authenticationRequired
      traceUrlTemplate
    }
  }
`);

export const TasksPageQuery = graphql(`
  query TasksPage(
    $first: Int!
    $after: String
    $state: TaskState
    $type: TaskType
    $createdAfter: DateTime
    $idPrefix: String
    $order: TaskOrder
  ) {
    tasks(first: $first, after: $after, state: $state, type: $type, createdAfter: $createdAfter, idPrefix: $idPrefix, order: $order) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...TaskSummaryFields
      }
    }
  }
`);

export const WorkerFields = graphql(`
  fragment WorkerFields on Worker {
    id
    alive
    lastHeartbeatAt
    concurrency
    activeTasks
    circuit {
      state
      failures
      openedAt
      halfOpenAt
    }
  }
`);

export const WorkersSubscription = graphql(`
  subscription WorkersUpdated {
    workersUpdated {
      ...WorkerFields
    }
  }
`);

export const ModelsSubscription = graphql(`
  subscription ModelsUpdated {
    modelsUpdated {
      model
      configured
      state
      openedAt
      halfOpenAt
      calls
      failures
      failureRate
    }
  }
`);

export const ResetCircuitBreakersMutation = graphql(`
  mutation ResetCircuitBreakers {
    resetCircuitBreakers {
      ...WorkerFields
    }
  }
`);

export const OpenCircuitBreakersMutation = graphql(`
  mutation OpenCircuitBreakers {
    openCircuitBreakers {
      ...WorkerFields
    }
  }
`);

export const ProviderStatusSubscription = graphql(`
  subscription ProviderStatusUpdated {
    providerStatusUpdated {
      state
      creditsRemaining
      rateLimitedUntil
      checkedAt
    }
  }
`);

export const TaskFlowSubscription = graphql(`
  subscription TaskFlowUpdated($minutes: Int) {
    taskFlowUpdated(minutes: $minutes) {
      minutes
      at
      buckets {
        start
        transitions {
          from
          to
          count
        }
      }
    }
  }
`);

export const DeadLetterGroupsQuery = graphql(`
  query DeadLetterGroups {
    all: deadLetterTasks(first: 1) {
      totalCount
    }
    deadLetterCounts {
      errorClass
      count
    }
  }
`);

export const DeadLetterTasksQuery = graphql(`
  query DeadLetterTasks($errorClass: ErrorClass!, $first: Int!) {
    deadLetterTasks(first: $first, errorClass: $errorClass) {
      totalCount
      nodes {
        ...TaskSummaryFields
        errors {
          errorClass
          message
          httpStatus
          attempt
          at
        }
      }
    }
  }
`);

export const RetryDeadLetterTasksMutation = graphql(`
  mutation RetryDeadLetterTasks($errorClass: ErrorClass, $ids: [ID!]) {
    retryDeadLetterTasks(errorClass: $errorClass, ids: $ids)
  }
`);

export const PurgeDeadLetterQueueMutation = graphql(`
  mutation PurgeDeadLetterQueue {
    purgeDeadLetterQueue(confirm: true)
  }
`);

export const TaskOutputSubscription = graphql(`
  subscription TaskOutput($id: ID!, $after: String) {
    taskOutput(id: $id, after: $after) {
      taskId
      cursor
      attempt
      text
      reset
      final
      model
    }
  }
`);

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
