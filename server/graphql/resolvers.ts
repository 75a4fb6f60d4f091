/** Thin resolvers: unpack arguments, call a service, shape the answer. */
import type { TaskRecord } from '../../schema/src/task.ts';
import type { QueueStatusSnapshot } from '../services/queue-service.ts';
import type { Resolvers } from './__generated__/resolvers.ts';
import { DateTimeScalar } from './date-time.ts';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,

  Query: {
    task: (_, { id }, { tasks, caller }) => tasks.get(id, caller),
    tasks: async (_, args, { tasks, caller }) => {
      const page = await tasks.list(args, caller);
      return {
        nodes: page.records,
        totalCount: page.totalCount,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
    queueStatus: (_, __, { queues }) => queues.status(),
  },

  Mutation: {
    submitTask: (_, { input }, { tasks, caller }) => tasks.submit(input, caller),
  },

  Subscription: {
    taskUpdated: {
      subscribe: (_, { id, afterVersion }, { tasks, caller }) =>
        tasks.watch(id, afterVersion ?? null, caller),
      resolve: (record: TaskRecord) => record,
    },
    tasksUpdated: {
      subscribe: (_, __, { tasks, caller }) => tasks.watchAll(caller),
      resolve: (record: TaskRecord) => record,
    },
    queueStatusUpdated: {
      subscribe: (_, __, { queues }) => queues.watch(),
      resolve: (status: QueueStatusSnapshot) => status,
    },
  },

  Task: {
    content: (task, _, { tasks }) => tasks.content(task),
    history: (task, _, { tasks }) => tasks.history(task.id),
  },

  TaskTransition: {
    workerId: (event) => event.workerId,
  },
};
