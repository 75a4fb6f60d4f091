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
    usage {
      model
      promptTokens
      completionTokens
      totalTokens
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
