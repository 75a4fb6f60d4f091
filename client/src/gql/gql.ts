/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment WorkerFields on Worker {\n    id\n    alive\n    lastHeartbeatAt\n    concurrency\n    activeTasks\n    circuit {\n      state\n      failures\n      openedAt\n      halfOpenAt\n    }\n  }\n": typeof types.WorkerFieldsFragmentDoc,
    "\n  subscription WorkersUpdated {\n    workersUpdated {\n      ...WorkerFields\n    }\n  }\n": typeof types.WorkersUpdatedDocument,
    "\n  subscription ModelsUpdated {\n    modelsUpdated {\n      model\n      configured\n      state\n      openedAt\n      halfOpenAt\n      calls\n      failures\n      failureRate\n    }\n  }\n": typeof types.ModelsUpdatedDocument,
    "\n  mutation ResetCircuitBreakers {\n    resetCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n": typeof types.ResetCircuitBreakersDocument,
    "\n  mutation OpenCircuitBreakers {\n    openCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n": typeof types.OpenCircuitBreakersDocument,
    "\n  subscription ProviderStatusUpdated {\n    providerStatusUpdated {\n      state\n      creditsRemaining\n      rateLimitedUntil\n      checkedAt\n    }\n  }\n": typeof types.ProviderStatusUpdatedDocument,
    "\n  subscription TaskStandingsUpdated($ids: [ID!]!) {\n    taskStandingsUpdated(ids: $ids) {\n      taskId\n      waitReason\n      queuePosition\n      estimatedStartAt\n      at\n    }\n  }\n": typeof types.TaskStandingsUpdatedDocument,
    "\n  fragment TenantPolicyFields on TenantPolicy {\n    tenant\n    weight\n    maxConcurrency\n    paused\n    active\n    waiting\n  }\n": typeof types.TenantPolicyFieldsFragmentDoc,
    "\n  query Tenants($minutes: Int!) {\n    tenantPolicies {\n      ...TenantPolicyFields\n    }\n    tenantActivity(minutes: $minutes) {\n      tenant\n      starts\n      tokens\n      startShare\n      tokenShare\n    }\n  }\n": typeof types.TenantsDocument,
    "\n  mutation SetTenantPolicy($tenant: String!, $input: TenantPolicyInput!) {\n    setTenantPolicy(tenant: $tenant, input: $input) {\n      ...TenantPolicyFields\n    }\n  }\n": typeof types.SetTenantPolicyDocument,
    "\n  subscription QueueStatusUpdated {\n    queueStatusUpdated {\n      primary\n      retry\n      scheduled\n      dlq\n      retryRatio\n      states {\n        state\n        count\n      }\n    }\n  }\n": typeof types.QueueStatusUpdatedDocument,
    "\n  subscription TaskFlowUpdated($minutes: Int) {\n    taskFlowUpdated(minutes: $minutes) {\n      minutes\n      at\n      buckets {\n        start\n        transitions {\n          from\n          to\n          count\n        }\n      }\n    }\n  }\n": typeof types.TaskFlowUpdatedDocument,
    "\n  query DeadLetterGroups {\n    all: deadLetterTasks(first: 1) {\n      totalCount\n    }\n    deadLetterCounts {\n      errorClass\n      count\n    }\n  }\n": typeof types.DeadLetterGroupsDocument,
    "\n  query DeadLetterTasks($errorClass: ErrorClass!, $first: Int!) {\n    deadLetterTasks(first: $first, errorClass: $errorClass) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n        errors {\n          errorClass\n          message\n          httpStatus\n          attempt\n          at\n        }\n      }\n    }\n  }\n": typeof types.DeadLetterTasksDocument,
    "\n  mutation RetryDeadLetterTasks($errorClass: ErrorClass, $ids: [ID!]) {\n    retryDeadLetterTasks(errorClass: $errorClass, ids: $ids)\n  }\n": typeof types.RetryDeadLetterTasksDocument,
    "\n  mutation PurgeDeadLetterQueue {\n    purgeDeadLetterQueue(confirm: true)\n  }\n": typeof types.PurgeDeadLetterQueueDocument,
    "\n  fragment TaskSummaryFields on Task {\n    id\n    type\n    state\n    version\n    progress\n    retryCount\n    maxRetries\n    createdAt\n    updatedAt\n    completedAt\n    priority\n  }\n": typeof types.TaskSummaryFieldsFragmentDoc,
    "\n  fragment TaskDetailFields on Task {\n    ...TaskSummaryFields\n    content\n    result\n    startedAt\n    nextAttemptAt\n    workerId\n    waitReason\n    queuePosition\n    estimatedStartAt\n    standingAt\n    traceId\n    usage {\n      model\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      cachedTokens\n      reasoningTokens\n      calls\n      estimated\n      perCall {\n        attempt\n        model\n        chainIndex\n        switchReason\n        generationId\n        promptTokens\n        completionTokens\n        costUsd\n        estimated\n        at\n      }\n    }\n    errors {\n      errorClass\n      message\n      httpStatus\n      attempt\n      at\n      nextAttemptAt\n    }\n    history {\n      state\n      at\n      workerId\n      reason\n      version\n      model\n      chainIndex\n      switchReason\n    }\n  }\n": typeof types.TaskDetailFieldsFragmentDoc,
    "\n  mutation SubmitTask($input: SubmitTaskInput!) {\n    submitTask(input: $input) {\n      ...TaskSummaryFields\n    }\n  }\n": typeof types.SubmitTaskDocument,
    "\n  query RecentTasks($first: Int!) {\n    tasks(first: $first) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n": typeof types.RecentTasksDocument,
    "\n  query TaskDetail($id: ID!) {\n    task(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n": typeof types.TaskDetailDocument,
    "\n  subscription TaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n": typeof types.TaskUpdatedDocument,
    "\n  subscription TasksUpdated {\n    tasksUpdated {\n      ...TaskSummaryFields\n    }\n  }\n": typeof types.TasksUpdatedDocument,
    "\n  subscription TaskDeleted {\n    taskDeleted\n  }\n": typeof types.TaskDeletedDocument,
    "\n  query TasksPage(\n    $first: Int!\n    $after: String\n    $state: TaskState\n    $type: TaskType\n    $createdAfter: DateTime\n    $idPrefix: String\n    $order: TaskOrder\n  ) {\n    tasks(first: $first, after: $after, state: $state, type: $type, createdAfter: $createdAfter, idPrefix: $idPrefix, order: $order) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n": typeof types.TasksPageDocument,
    "\n  mutation CancelTask($id: ID!) {\n    cancelTask(id: $id) {\n      id\n      state\n      version\n    }\n  }\n": typeof types.CancelTaskDocument,
    "\n  mutation RetryTask($id: ID!, $resetRetryCount: Boolean) {\n    retryTask(id: $id, resetRetryCount: $resetRetryCount) {\n      id\n      state\n      version\n    }\n  }\n": typeof types.RetryTaskDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": typeof types.DeleteTaskDocument,
    "\n  subscription TaskOutput($id: ID!, $after: String) {\n    taskOutput(id: $id, after: $after) {\n      taskId\n      cursor\n      attempt\n      text\n      reset\n      final\n      model\n    }\n  }\n": typeof types.TaskOutputDocument,
    "\n  fragment BudgetFields on Budget {\n    tenant\n    period\n    limitUsd\n    spentUsd\n    reservedUsd\n    resetsAt\n  }\n": typeof types.BudgetFieldsFragmentDoc,
    "\n  query Spend($from: DateTime!, $to: DateTime!) {\n    usage(from: $from, to: $to, groupBy: [TENANT, MODEL, DAY]) {\n      tenant\n      model\n      day\n      tasks\n      calls\n      promptTokens\n      completionTokens\n      costUsd\n    }\n    budgets {\n      ...BudgetFields\n    }\n  }\n": typeof types.SpendDocument,
    "\n  mutation SetBudget($tenant: String!, $period: BudgetPeriod!, $limitUsd: Float) {\n    setBudget(tenant: $tenant, period: $period, limitUsd: $limitUsd) {\n      ...BudgetFields\n    }\n  }\n": typeof types.SetBudgetDocument,
    "\n  query Viewer {\n    viewer {\n      tenant\n      scopes\n      authenticationRequired\n      traceUrlTemplate\n    }\n  }\n": typeof types.ViewerDocument,
};
const documents: Documents = {
    "\n  fragment WorkerFields on Worker {\n    id\n    alive\n    lastHeartbeatAt\n    concurrency\n    activeTasks\n    circuit {\n      state\n      failures\n      openedAt\n      halfOpenAt\n    }\n  }\n": types.WorkerFieldsFragmentDoc,
    "\n  subscription WorkersUpdated {\n    workersUpdated {\n      ...WorkerFields\n    }\n  }\n": types.WorkersUpdatedDocument,
    "\n  subscription ModelsUpdated {\n    modelsUpdated {\n      model\n      configured\n      state\n      openedAt\n      halfOpenAt\n      calls\n      failures\n      failureRate\n    }\n  }\n": types.ModelsUpdatedDocument,
    "\n  mutation ResetCircuitBreakers {\n    resetCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n": types.ResetCircuitBreakersDocument,
    "\n  mutation OpenCircuitBreakers {\n    openCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n": types.OpenCircuitBreakersDocument,
    "\n  subscription ProviderStatusUpdated {\n    providerStatusUpdated {\n      state\n      creditsRemaining\n      rateLimitedUntil\n      checkedAt\n    }\n  }\n": types.ProviderStatusUpdatedDocument,
    "\n  subscription TaskStandingsUpdated($ids: [ID!]!) {\n    taskStandingsUpdated(ids: $ids) {\n      taskId\n      waitReason\n      queuePosition\n      estimatedStartAt\n      at\n    }\n  }\n": types.TaskStandingsUpdatedDocument,
    "\n  fragment TenantPolicyFields on TenantPolicy {\n    tenant\n    weight\n    maxConcurrency\n    paused\n    active\n    waiting\n  }\n": types.TenantPolicyFieldsFragmentDoc,
    "\n  query Tenants($minutes: Int!) {\n    tenantPolicies {\n      ...TenantPolicyFields\n    }\n    tenantActivity(minutes: $minutes) {\n      tenant\n      starts\n      tokens\n      startShare\n      tokenShare\n    }\n  }\n": types.TenantsDocument,
    "\n  mutation SetTenantPolicy($tenant: String!, $input: TenantPolicyInput!) {\n    setTenantPolicy(tenant: $tenant, input: $input) {\n      ...TenantPolicyFields\n    }\n  }\n": types.SetTenantPolicyDocument,
    "\n  subscription QueueStatusUpdated {\n    queueStatusUpdated {\n      primary\n      retry\n      scheduled\n      dlq\n      retryRatio\n      states {\n        state\n        count\n      }\n    }\n  }\n": types.QueueStatusUpdatedDocument,
    "\n  subscription TaskFlowUpdated($minutes: Int) {\n    taskFlowUpdated(minutes: $minutes) {\n      minutes\n      at\n      buckets {\n        start\n        transitions {\n          from\n          to\n          count\n        }\n      }\n    }\n  }\n": types.TaskFlowUpdatedDocument,
    "\n  query DeadLetterGroups {\n    all: deadLetterTasks(first: 1) {\n      totalCount\n    }\n    deadLetterCounts {\n      errorClass\n      count\n    }\n  }\n": types.DeadLetterGroupsDocument,
    "\n  query DeadLetterTasks($errorClass: ErrorClass!, $first: Int!) {\n    deadLetterTasks(first: $first, errorClass: $errorClass) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n        errors {\n          errorClass\n          message\n          httpStatus\n          attempt\n          at\n        }\n      }\n    }\n  }\n": types.DeadLetterTasksDocument,
    "\n  mutation RetryDeadLetterTasks($errorClass: ErrorClass, $ids: [ID!]) {\n    retryDeadLetterTasks(errorClass: $errorClass, ids: $ids)\n  }\n": types.RetryDeadLetterTasksDocument,
    "\n  mutation PurgeDeadLetterQueue {\n    purgeDeadLetterQueue(confirm: true)\n  }\n": types.PurgeDeadLetterQueueDocument,
    "\n  fragment TaskSummaryFields on Task {\n    id\n    type\n    state\n    version\n    progress\n    retryCount\n    maxRetries\n    createdAt\n    updatedAt\n    completedAt\n    priority\n  }\n": types.TaskSummaryFieldsFragmentDoc,
    "\n  fragment TaskDetailFields on Task {\n    ...TaskSummaryFields\n    content\n    result\n    startedAt\n    nextAttemptAt\n    workerId\n    waitReason\n    queuePosition\n    estimatedStartAt\n    standingAt\n    traceId\n    usage {\n      model\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      cachedTokens\n      reasoningTokens\n      calls\n      estimated\n      perCall {\n        attempt\n        model\n        chainIndex\n        switchReason\n        generationId\n        promptTokens\n        completionTokens\n        costUsd\n        estimated\n        at\n      }\n    }\n    errors {\n      errorClass\n      message\n      httpStatus\n      attempt\n      at\n      nextAttemptAt\n    }\n    history {\n      state\n      at\n      workerId\n      reason\n      version\n      model\n      chainIndex\n      switchReason\n    }\n  }\n": types.TaskDetailFieldsFragmentDoc,
    "\n  mutation SubmitTask($input: SubmitTaskInput!) {\n    submitTask(input: $input) {\n      ...TaskSummaryFields\n    }\n  }\n": types.SubmitTaskDocument,
    "\n  query RecentTasks($first: Int!) {\n    tasks(first: $first) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n": types.RecentTasksDocument,
    "\n  query TaskDetail($id: ID!) {\n    task(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n": types.TaskDetailDocument,
    "\n  subscription TaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n": types.TaskUpdatedDocument,
    "\n  subscription TasksUpdated {\n    tasksUpdated {\n      ...TaskSummaryFields\n    }\n  }\n": types.TasksUpdatedDocument,
    "\n  subscription TaskDeleted {\n    taskDeleted\n  }\n": types.TaskDeletedDocument,
    "\n  query TasksPage(\n    $first: Int!\n    $after: String\n    $state: TaskState\n    $type: TaskType\n    $createdAfter: DateTime\n    $idPrefix: String\n    $order: TaskOrder\n  ) {\n    tasks(first: $first, after: $after, state: $state, type: $type, createdAfter: $createdAfter, idPrefix: $idPrefix, order: $order) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n": types.TasksPageDocument,
    "\n  mutation CancelTask($id: ID!) {\n    cancelTask(id: $id) {\n      id\n      state\n      version\n    }\n  }\n": types.CancelTaskDocument,
    "\n  mutation RetryTask($id: ID!, $resetRetryCount: Boolean) {\n    retryTask(id: $id, resetRetryCount: $resetRetryCount) {\n      id\n      state\n      version\n    }\n  }\n": types.RetryTaskDocument,
    "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n": types.DeleteTaskDocument,
    "\n  subscription TaskOutput($id: ID!, $after: String) {\n    taskOutput(id: $id, after: $after) {\n      taskId\n      cursor\n      attempt\n      text\n      reset\n      final\n      model\n    }\n  }\n": types.TaskOutputDocument,
    "\n  fragment BudgetFields on Budget {\n    tenant\n    period\n    limitUsd\n    spentUsd\n    reservedUsd\n    resetsAt\n  }\n": types.BudgetFieldsFragmentDoc,
    "\n  query Spend($from: DateTime!, $to: DateTime!) {\n    usage(from: $from, to: $to, groupBy: [TENANT, MODEL, DAY]) {\n      tenant\n      model\n      day\n      tasks\n      calls\n      promptTokens\n      completionTokens\n      costUsd\n    }\n    budgets {\n      ...BudgetFields\n    }\n  }\n": types.SpendDocument,
    "\n  mutation SetBudget($tenant: String!, $period: BudgetPeriod!, $limitUsd: Float) {\n    setBudget(tenant: $tenant, period: $period, limitUsd: $limitUsd) {\n      ...BudgetFields\n    }\n  }\n": types.SetBudgetDocument,
    "\n  query Viewer {\n    viewer {\n      tenant\n      scopes\n      authenticationRequired\n      traceUrlTemplate\n    }\n  }\n": types.ViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WorkerFields on Worker {\n    id\n    alive\n    lastHeartbeatAt\n    concurrency\n    activeTasks\n    circuit {\n      state\n      failures\n      openedAt\n      halfOpenAt\n    }\n  }\n"): (typeof documents)["\n  fragment WorkerFields on Worker {\n    id\n    alive\n    lastHeartbeatAt\n    concurrency\n    activeTasks\n    circuit {\n      state\n      failures\n      openedAt\n      halfOpenAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WorkersUpdated {\n    workersUpdated {\n      ...WorkerFields\n    }\n  }\n"): (typeof documents)["\n  subscription WorkersUpdated {\n    workersUpdated {\n      ...WorkerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ModelsUpdated {\n    modelsUpdated {\n      model\n      configured\n      state\n      openedAt\n      halfOpenAt\n      calls\n      failures\n      failureRate\n    }\n  }\n"): (typeof documents)["\n  subscription ModelsUpdated {\n    modelsUpdated {\n      model\n      configured\n      state\n      openedAt\n      halfOpenAt\n      calls\n      failures\n      failureRate\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetCircuitBreakers {\n    resetCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n"): (typeof documents)["\n  mutation ResetCircuitBreakers {\n    resetCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OpenCircuitBreakers {\n    openCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n"): (typeof documents)["\n  mutation OpenCircuitBreakers {\n    openCircuitBreakers {\n      ...WorkerFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProviderStatusUpdated {\n    providerStatusUpdated {\n      state\n      creditsRemaining\n      rateLimitedUntil\n      checkedAt\n    }\n  }\n"): (typeof documents)["\n  subscription ProviderStatusUpdated {\n    providerStatusUpdated {\n      state\n      creditsRemaining\n      rateLimitedUntil\n      checkedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskStandingsUpdated($ids: [ID!]!) {\n    taskStandingsUpdated(ids: $ids) {\n      taskId\n      waitReason\n      queuePosition\n      estimatedStartAt\n      at\n    }\n  }\n"): (typeof documents)["\n  subscription TaskStandingsUpdated($ids: [ID!]!) {\n    taskStandingsUpdated(ids: $ids) {\n      taskId\n      waitReason\n      queuePosition\n      estimatedStartAt\n      at\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TenantPolicyFields on TenantPolicy {\n    tenant\n    weight\n    maxConcurrency\n    paused\n    active\n    waiting\n  }\n"): (typeof documents)["\n  fragment TenantPolicyFields on TenantPolicy {\n    tenant\n    weight\n    maxConcurrency\n    paused\n    active\n    waiting\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Tenants($minutes: Int!) {\n    tenantPolicies {\n      ...TenantPolicyFields\n    }\n    tenantActivity(minutes: $minutes) {\n      tenant\n      starts\n      tokens\n      startShare\n      tokenShare\n    }\n  }\n"): (typeof documents)["\n  query Tenants($minutes: Int!) {\n    tenantPolicies {\n      ...TenantPolicyFields\n    }\n    tenantActivity(minutes: $minutes) {\n      tenant\n      starts\n      tokens\n      startShare\n      tokenShare\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTenantPolicy($tenant: String!, $input: TenantPolicyInput!) {\n    setTenantPolicy(tenant: $tenant, input: $input) {\n      ...TenantPolicyFields\n    }\n  }\n"): (typeof documents)["\n  mutation SetTenantPolicy($tenant: String!, $input: TenantPolicyInput!) {\n    setTenantPolicy(tenant: $tenant, input: $input) {\n      ...TenantPolicyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription QueueStatusUpdated {\n    queueStatusUpdated {\n      primary\n      retry\n      scheduled\n      dlq\n      retryRatio\n      states {\n        state\n        count\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription QueueStatusUpdated {\n    queueStatusUpdated {\n      primary\n      retry\n      scheduled\n      dlq\n      retryRatio\n      states {\n        state\n        count\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskFlowUpdated($minutes: Int) {\n    taskFlowUpdated(minutes: $minutes) {\n      minutes\n      at\n      buckets {\n        start\n        transitions {\n          from\n          to\n          count\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription TaskFlowUpdated($minutes: Int) {\n    taskFlowUpdated(minutes: $minutes) {\n      minutes\n      at\n      buckets {\n        start\n        transitions {\n          from\n          to\n          count\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeadLetterGroups {\n    all: deadLetterTasks(first: 1) {\n      totalCount\n    }\n    deadLetterCounts {\n      errorClass\n      count\n    }\n  }\n"): (typeof documents)["\n  query DeadLetterGroups {\n    all: deadLetterTasks(first: 1) {\n      totalCount\n    }\n    deadLetterCounts {\n      errorClass\n      count\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeadLetterTasks($errorClass: ErrorClass!, $first: Int!) {\n    deadLetterTasks(first: $first, errorClass: $errorClass) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n        errors {\n          errorClass\n          message\n          httpStatus\n          attempt\n          at\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DeadLetterTasks($errorClass: ErrorClass!, $first: Int!) {\n    deadLetterTasks(first: $first, errorClass: $errorClass) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n        errors {\n          errorClass\n          message\n          httpStatus\n          attempt\n          at\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryDeadLetterTasks($errorClass: ErrorClass, $ids: [ID!]) {\n    retryDeadLetterTasks(errorClass: $errorClass, ids: $ids)\n  }\n"): (typeof documents)["\n  mutation RetryDeadLetterTasks($errorClass: ErrorClass, $ids: [ID!]) {\n    retryDeadLetterTasks(errorClass: $errorClass, ids: $ids)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PurgeDeadLetterQueue {\n    purgeDeadLetterQueue(confirm: true)\n  }\n"): (typeof documents)["\n  mutation PurgeDeadLetterQueue {\n    purgeDeadLetterQueue(confirm: true)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskSummaryFields on Task {\n    id\n    type\n    state\n    version\n    progress\n    retryCount\n    maxRetries\n    createdAt\n    updatedAt\n    completedAt\n    priority\n  }\n"): (typeof documents)["\n  fragment TaskSummaryFields on Task {\n    id\n    type\n    state\n    version\n    progress\n    retryCount\n    maxRetries\n    createdAt\n    updatedAt\n    completedAt\n    priority\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskDetailFields on Task {\n    ...TaskSummaryFields\n    content\n    result\n    startedAt\n    nextAttemptAt\n    workerId\n    waitReason\n    queuePosition\n    estimatedStartAt\n    standingAt\n    traceId\n    usage {\n      model\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      cachedTokens\n      reasoningTokens\n      calls\n      estimated\n      perCall {\n        attempt\n        model\n        chainIndex\n        switchReason\n        generationId\n        promptTokens\n        completionTokens\n        costUsd\n        estimated\n        at\n      }\n    }\n    errors {\n      errorClass\n      message\n      httpStatus\n      attempt\n      at\n      nextAttemptAt\n    }\n    history {\n      state\n      at\n      workerId\n      reason\n      version\n      model\n      chainIndex\n      switchReason\n    }\n  }\n"): (typeof documents)["\n  fragment TaskDetailFields on Task {\n    ...TaskSummaryFields\n    content\n    result\n    startedAt\n    nextAttemptAt\n    workerId\n    waitReason\n    queuePosition\n    estimatedStartAt\n    standingAt\n    traceId\n    usage {\n      model\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      cachedTokens\n      reasoningTokens\n      calls\n      estimated\n      perCall {\n        attempt\n        model\n        chainIndex\n        switchReason\n        generationId\n        promptTokens\n        completionTokens\n        costUsd\n        estimated\n        at\n      }\n    }\n    errors {\n      errorClass\n      message\n      httpStatus\n      attempt\n      at\n      nextAttemptAt\n    }\n    history {\n      state\n      at\n      workerId\n      reason\n      version\n      model\n      chainIndex\n      switchReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitTask($input: SubmitTaskInput!) {\n    submitTask(input: $input) {\n      ...TaskSummaryFields\n    }\n  }\n"): (typeof documents)["\n  mutation SubmitTask($input: SubmitTaskInput!) {\n    submitTask(input: $input) {\n      ...TaskSummaryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentTasks($first: Int!) {\n    tasks(first: $first) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query RecentTasks($first: Int!) {\n    tasks(first: $first) {\n      totalCount\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskDetail($id: ID!) {\n    task(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n"): (typeof documents)["\n  query TaskDetail($id: ID!) {\n    task(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n"): (typeof documents)["\n  subscription TaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...TaskDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TasksUpdated {\n    tasksUpdated {\n      ...TaskSummaryFields\n    }\n  }\n"): (typeof documents)["\n  subscription TasksUpdated {\n    tasksUpdated {\n      ...TaskSummaryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskDeleted {\n    taskDeleted\n  }\n"): (typeof documents)["\n  subscription TaskDeleted {\n    taskDeleted\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TasksPage(\n    $first: Int!\n    $after: String\n    $state: TaskState\n    $type: TaskType\n    $createdAfter: DateTime\n    $idPrefix: String\n    $order: TaskOrder\n  ) {\n    tasks(first: $first, after: $after, state: $state, type: $type, createdAfter: $createdAfter, idPrefix: $idPrefix, order: $order) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query TasksPage(\n    $first: Int!\n    $after: String\n    $state: TaskState\n    $type: TaskType\n    $createdAfter: DateTime\n    $idPrefix: String\n    $order: TaskOrder\n  ) {\n    tasks(first: $first, after: $after, state: $state, type: $type, createdAfter: $createdAfter, idPrefix: $idPrefix, order: $order) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        ...TaskSummaryFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelTask($id: ID!) {\n    cancelTask(id: $id) {\n      id\n      state\n      version\n    }\n  }\n"): (typeof documents)["\n  mutation CancelTask($id: ID!) {\n    cancelTask(id: $id) {\n      id\n      state\n      version\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryTask($id: ID!, $resetRetryCount: Boolean) {\n    retryTask(id: $id, resetRetryCount: $resetRetryCount) {\n      id\n      state\n      version\n    }\n  }\n"): (typeof documents)["\n  mutation RetryTask($id: ID!, $resetRetryCount: Boolean) {\n    retryTask(id: $id, resetRetryCount: $resetRetryCount) {\n      id\n      state\n      version\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteTask($id: ID!) {\n    deleteTask(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskOutput($id: ID!, $after: String) {\n    taskOutput(id: $id, after: $after) {\n      taskId\n      cursor\n      attempt\n      text\n      reset\n      final\n      model\n    }\n  }\n"): (typeof documents)["\n  subscription TaskOutput($id: ID!, $after: String) {\n    taskOutput(id: $id, after: $after) {\n      taskId\n      cursor\n      attempt\n      text\n      reset\n      final\n      model\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BudgetFields on Budget {\n    tenant\n    period\n    limitUsd\n    spentUsd\n    reservedUsd\n    resetsAt\n  }\n"): (typeof documents)["\n  fragment BudgetFields on Budget {\n    tenant\n    period\n    limitUsd\n    spentUsd\n    reservedUsd\n    resetsAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Spend($from: DateTime!, $to: DateTime!) {\n    usage(from: $from, to: $to, groupBy: [TENANT, MODEL, DAY]) {\n      tenant\n      model\n      day\n      tasks\n      calls\n      promptTokens\n      completionTokens\n      costUsd\n    }\n    budgets {\n      ...BudgetFields\n    }\n  }\n"): (typeof documents)["\n  query Spend($from: DateTime!, $to: DateTime!) {\n    usage(from: $from, to: $to, groupBy: [TENANT, MODEL, DAY]) {\n      tenant\n      model\n      day\n      tasks\n      calls\n      promptTokens\n      completionTokens\n      costUsd\n    }\n    budgets {\n      ...BudgetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetBudget($tenant: String!, $period: BudgetPeriod!, $limitUsd: Float) {\n    setBudget(tenant: $tenant, period: $period, limitUsd: $limitUsd) {\n      ...BudgetFields\n    }\n  }\n"): (typeof documents)["\n  mutation SetBudget($tenant: String!, $period: BudgetPeriod!, $limitUsd: Float) {\n    setBudget(tenant: $tenant, period: $period, limitUsd: $limitUsd) {\n      ...BudgetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      tenant\n      scopes\n      authenticationRequired\n      traceUrlTemplate\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      tenant\n      scopes\n      authenticationRequired\n      traceUrlTemplate\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;