/** Thin resolvers: unpack arguments, call a service, shape the answer. */
import type { TaskRecord } from '../../schema/src/task.ts';
import type { OutputChunk } from '../../schema/src/scripts/output.ts';
import type { QueueStatusSnapshot } from '../services/queue-service.ts';
import type { WorkerView } from '../services/worker-service.ts';
import type { ModelStatusView } from '../infra/model-breaker-store.ts';
import type { ProviderStatusSnapshot } from '../../schema/src/provider-status.ts';
import type { TaskFlowSnapshot } from '../services/flow-service.ts';
import type { TaskPage } from '../infra/task-repository.ts';
import type { Resolvers } from './__generated__/resolvers.ts';
import { DateTimeScalar } from './date-time.ts';
import { selectsAnyField } from './selection.ts';
import { Scope } from '../auth/scopes.ts';
import type { TaskStandingView } from '../services/dispatch-service.ts';
import { traceIdOf } from '../../schema/src/trace-context.ts';
import { transitionModel } from '../../schema/src/model-chain.ts';

/** The GraphQL name of each scope. */
const SCOPE_ENUM = { [Scope.TASKS_WRITE]: 'TASKS_WRITE', [Scope.TASKS_READ]: 'TASKS_READ', [Scope.ADMIN]: 'ADMIN' } as const;

/** Task fields read from where the task stands: a `taskUpdated` selecting any follows it live. */
const STANDING_FIELDS: ReadonlySet<string> = new Set(['waitReason', 'queuePosition', 'estimatedStartAt', 'standingAt']);

const toConnection = (page: TaskPage) => ({
  nodes: page.records,
  totalCount: page.totalCount,
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
});

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,

  Query: {
    task: (_, { id }, { tasks, caller }) => tasks.get(id, caller),
    tasks: async (_, args, { tasks, caller }) => toConnection(await tasks.list(args, caller)),
    queueStatus: (_, __, { queues }) => queues.status(),
    deadLetterTasks: async (_, args, { deadLetters, caller }) => toConnection(await deadLetters.list(args, caller)),
    deadLetterCounts: (_, __, { deadLetters }) => deadLetters.counts(),
    workers: (_, __, { workers }) => workers.list(),
    models: (_, __, { workers }) => workers.models(),
    providerStatus: (_, __, { provider }) => provider.status(),
    viewer: (_, __, { caller, authenticationRequired, traceUrlTemplate }) => ({
      tenant: caller.tenant,
      scopes: [...caller.scopes].map((scope) => SCOPE_ENUM[scope]),
      authenticationRequired,
      traceUrlTemplate,
    }),
    auditLog: async (_, { first, after }, { tasks, audit }) => {
      const page = await audit.list(tasks.pageSize(first), after ?? null);
      return { nodes: page.records, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
    taskFlow: (_, { minutes }, { flow }) => flow.flow(minutes),
    usage: (_, { from, to, groupBy }, { usage, caller }) => usage.usage(from, to, groupBy, caller),
    budgets: (_, __, { usage, caller }) => usage.budgets(caller),
    tenantPolicies: (_, __, { dispatch, caller }) => dispatch.tenantPolicies(caller),
    tenantActivity: (_, { minutes }, { dispatch, caller }) => dispatch.tenantActivity(minutes, caller),
  },

  Mutation: {
    submitTask: (_, { input }, { tasks, caller, requestTrace }) => tasks.submit(input, caller, requestTrace),
    retryTask: (_, { id, resetRetryCount }, { tasks, caller }) => tasks.retry(id, resetRetryCount ?? false, caller),
    cancelTask: (_, { id }, { tasks, caller }) => tasks.cancel(id, caller),
    deleteTask: (_, { id }, { tasks, caller }) => tasks.remove(id, caller),
    retryDeadLetterTasks: (_, args, { deadLetters, caller }) => deadLetters.retry(args, caller),
    purgeDeadLetterQueue: (_, { confirm }, { deadLetters, caller }) => deadLetters.purge(confirm, caller),
    resetCircuitBreakers: (_, __, { workers }) => workers.resetCircuits(),
    openCircuitBreakers: (_, __, { workers }) => workers.openCircuits(),
    setBudget: (_, { tenant, period, limitUsd }, { usage }) => usage.setBudget(tenant, period, limitUsd ?? null),
    setTenantPolicy: (_, { tenant, input }, { dispatch }) => dispatch.setTenantPolicy(tenant, input),
  },

  Subscription: {
    taskUpdated: {
      subscribe: (_, { id, afterVersion }, { tasks, caller, backlog, prefetchContent }, info) =>
        tasks.watch(id, afterVersion ?? null, caller, { backlog, prefetchContent, followStanding: selectsAnyField(info, STANDING_FIELDS) }),
      resolve: (record: TaskRecord) => record,
    },
    tasksUpdated: {
      subscribe: (_, __, { tasks, caller, backlog, prefetchContent }) => tasks.watchChanges(caller, { backlog, prefetchContent }),
      // FEED_LIVE never reaches a resolver: shared execution answers it (shared-execution.ts).
      resolve: (record: TaskRecord) => record,
    },
    taskOutput: {
      subscribe: (_, { id, after }, { outputs, caller, backlog }) => outputs.watch(id, after ?? null, caller, backlog),
      resolve: (chunk: OutputChunk) => chunk,
    },
    taskStandingsUpdated: {
      subscribe: (_, { ids }, { dispatch, caller, backlog }) => dispatch.watchStandings(ids, caller, backlog),
      resolve: (view: TaskStandingView) => view,
    },
    taskDeleted: {
      subscribe: (_, __, { tasks, caller, backlog }) => tasks.watchDeletions(caller, { backlog }),
      resolve: (id: string) => id,
    },
    providerStatusUpdated: {
      subscribe: (_, __, { provider }) => provider.watch(),
      resolve: (status: ProviderStatusSnapshot) => status,
    },
    workersUpdated: {
      subscribe: (_, __, { workers }) => workers.watch(),
      resolve: (list: WorkerView[]) => list,
    },
    modelsUpdated: {
      subscribe: (_, __, { workers }) => workers.watchModels(),
      resolve: (list: ModelStatusView[]) => list,
    },
    taskFlowUpdated: {
      subscribe: (_, { minutes }, { flow }) => flow.watch(minutes),
      resolve: (snapshot: TaskFlowSnapshot) => snapshot,
    },
    queueStatusUpdated: {
      subscribe: (_, __, { queues }) => queues.watch(),
      resolve: (status: QueueStatusSnapshot) => status,
    },
  },

  Task: {
    content: (task, _, { tasks }) => tasks.content(task),
    history: (task, _, { tasks }) => tasks.history(task.id),
    output: (task, _, { outputs }) => outputs.textOf(task),
    usage: (task, _, { usage }) => usage.taskUsage(task),
    priority: (task) => task.priority,
    waitReason: async (task, _, { dispatch }) => (await dispatch.standingOf(task))?.waitReason ?? null,
    queuePosition: async (task, _, { dispatch }) => (await dispatch.standingOf(task))?.position ?? null,
    estimatedStartAt: async (task, _, { dispatch }) => dispatch.estimatedStart(await dispatch.standingOf(task)),
    standingAt: async (task, _, { dispatch }) => (await dispatch.standingOf(task))?.at ?? null,
    traceId: (task) => traceIdOf(task.trace),
  },

  TaskStanding: {
    taskId: (view) => view.taskId,
    waitReason: (view) => view.standing.waitReason,
    queuePosition: (view) => view.standing.position,
    estimatedStartAt: (view, _, { dispatch }) => dispatch.estimatedStart(view.standing),
    at: (view) => view.standing.at,
  },

  TaskTransition: {
    workerId: (event) => event.workerId,
    model: (event) => transitionModel(event.task, event.reason).model,
    chainIndex: (event) => transitionModel(event.task, event.reason).chainIndex,
    switchReason: (event) => transitionModel(event.task, event.reason).switchReason,
  },
};
