/**
 * Tasks: their fields, the list, table and task pages, submitting, live updates, output and
 * the per-task actions (cancel, retry, delete).
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
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

export const TaskDeletedSubscription = graphql(`
  subscription TaskDeleted {
    taskDeleted
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
