/**
 * The operator's views of the queues: the queue counts and task flow on the dashboard, and the
 * dead letter queue's groups, tasks, retry and purge.
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
import { graphql } from '../gql/index.ts';

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
