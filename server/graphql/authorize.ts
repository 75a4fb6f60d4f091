/**
 * Who may run which root field, in one table, and the audit record every operator action
 * leaves. The tables are typed against the schema: a new root field does not compile until
 * it is given a scope here.
 */
import type { Logger } from '../../common/logger.ts';
import { AppError, ErrorCode, isAppError } from '../../schema/src/errors.ts';
import { Scope, type Caller } from '../auth/scopes.ts';
import type { AuditService } from '../services/audit-service.ts';
import type { GraphQLContext } from './context.ts';
import type { MutationResolvers, QueryResolvers, Resolvers, SubscriptionResolvers } from './__generated__/resolvers.ts';

/** A scope, or 'caller' for any caller the server let in. */
type Requirement = Scope | 'caller';

const QUERY_SCOPES = {
  viewer: 'caller',
  task: Scope.TASKS_READ,
  tasks: Scope.TASKS_READ,
  providerStatus: Scope.TASKS_READ,
  queueStatus: Scope.ADMIN,
  deadLetterTasks: Scope.ADMIN,
  deadLetterCounts: Scope.ADMIN,
  workers: Scope.ADMIN,
  models: Scope.ADMIN,
  auditLog: Scope.ADMIN,
  taskFlow: Scope.ADMIN,
  // A tenant's key sees its own tenant's spend and budgets only (usage-service.ts).
  usage: Scope.TASKS_READ,
  budgets: Scope.TASKS_READ,
  // A tenant's key sees its own tenant's policy and activity only (dispatch-service.ts).
  tenantPolicies: Scope.TASKS_READ,
  tenantActivity: Scope.TASKS_READ,
} as const satisfies Record<keyof Required<QueryResolvers>, Requirement>;

const MUTATION_SCOPES = {
  submitTask: Scope.TASKS_WRITE,
  // Another tenant's task is invisible without the admin scope (see canSee).
  retryTask: Scope.TASKS_WRITE,
  cancelTask: Scope.TASKS_WRITE,
  deleteTask: Scope.TASKS_WRITE,
  retryDeadLetterTasks: Scope.ADMIN,
  purgeDeadLetterQueue: Scope.ADMIN,
  resetCircuitBreakers: Scope.ADMIN,
  openCircuitBreakers: Scope.ADMIN,
  setBudget: Scope.ADMIN,
  setTenantPolicy: Scope.ADMIN,
} as const satisfies Record<keyof Required<MutationResolvers>, Requirement>;

const SUBSCRIPTION_SCOPES = {
  taskUpdated: Scope.TASKS_READ,
  tasksUpdated: Scope.TASKS_READ,
  taskDeleted: Scope.TASKS_READ,
  taskOutput: Scope.TASKS_READ,
  providerStatusUpdated: Scope.TASKS_READ,
  queueStatusUpdated: Scope.ADMIN,
  workersUpdated: Scope.ADMIN,
  modelsUpdated: Scope.ADMIN,
  taskFlowUpdated: Scope.ADMIN,
  // Tasks of another tenant are left out, as missing ones (dispatch-service.ts).
  taskStandingsUpdated: Scope.TASKS_READ,
} as const satisfies Record<keyof Required<SubscriptionResolvers>, Requirement>;

/** Operator actions: each leaves an audit record, whether it succeeded or not. */
const AUDITED_MUTATIONS: ReadonlySet<string> = new Set([
  'retryTask',
  'cancelTask',
  'deleteTask',
  'retryDeadLetterTasks',
  'purgeDeadLetterQueue',
  'resetCircuitBreakers',
  'openCircuitBreakers',
  'setBudget',
  'setTenantPolicy',
]);

export function requireScope(caller: Caller, requirement: Requirement): void {
  if (requirement === 'caller' || caller.scopes.has(requirement)) return;
  throw new AppError(ErrorCode.FORBIDDEN, `this API key lacks the ${requirement} scope`, { details: { scope: requirement } });
}

/** The longest tenant name an audit record repeats: a refused one can be anything the body limit lets through. */
const AUDIT_TENANT_CHARS = 100;

/** What an audited action was aimed at, from its arguments. */
function auditTarget(args: Record<string, unknown>): string | null {
  if (typeof args.id === 'string') return args.id;
  if (Array.isArray(args.ids)) return args.ids.join(',');
  if (typeof args.errorClass === 'string') return `errorClass=${args.errorClass}`;
  if (typeof args.tenant === 'string' && args.input && typeof args.input === 'object') {
    const tenant = args.tenant.length > AUDIT_TENANT_CHARS ? `${args.tenant.slice(0, AUDIT_TENANT_CHARS)}…` : args.tenant;
    const changes = Object.entries(args.input).map(([field, value]) => `${field}=${String(value)}`);
    return [`tenant=${JSON.stringify(tenant)}`, ...changes].join(' ');
  }
  if (typeof args.tenant === 'string') return `tenant=${args.tenant} period=${String(args.period)} limitUsd=${String(args.limitUsd)}`;
  return null;
}

function auditDetail(result: unknown): string | null {
  if (typeof result === 'number') return `count=${result}`;
  if (result && typeof result === 'object' && 'weight' in result && 'paused' in result) {
    const policy = result as { weight: number; maxConcurrency: number | null; paused: boolean };
    return `weight=${policy.weight} maxConcurrency=${String(policy.maxConcurrency)} paused=${policy.paused}`;
  }
  if (typeof result === 'boolean') return result ? 'done' : 'not found';
  if (Array.isArray(result)) return `workers=${result.length}`;
  if (result && typeof result === 'object' && 'state' in result) return `state=${String(result.state)}`;
  return null;
}

type AnyResolver = (parent: unknown, args: Record<string, unknown>, context: GraphQLContext, info: unknown) => unknown;

/** The resolvers with every root field checked against its scope, and operator actions audited. */
export function withAuthorization(resolvers: Resolvers, audit: () => AuditService, logger: Logger): Resolvers {
  const guard = (table: Record<string, Requirement>, fields: Record<string, unknown>, audited: ReadonlySet<string>) =>
    Object.fromEntries(
      Object.entries(fields).map(([name, resolver]) => {
        const requirement = table[name]!;
        if (typeof resolver !== 'function') {
          const { subscribe, ...rest } = resolver as { subscribe: AnyResolver };
          const guarded: AnyResolver = (parent, args, context, info) => {
            requireScope(context.caller, requirement);
            return subscribe(parent, args, context, info);
          };
          return [name, { ...rest, subscribe: guarded }];
        }
        const guarded: AnyResolver = async (parent, args, context, info) => {
          if (!audited.has(name)) {
            requireScope(context.caller, requirement);
            return (resolver as AnyResolver)(parent, args, context, info);
          }
          const record = (detail: string | null) =>
            audit()
              .record(context.caller, name, auditTarget(args), detail)
              .catch((error: Error) => logger.error({ action: name, err: error.message }, 'audit record could not be written'));
          try {
            // Inside the try: a refused attempt is recorded too.
            requireScope(context.caller, requirement);
            const result = await (resolver as AnyResolver)(parent, args, context, info);
            await record(auditDetail(result));
            return result;
          } catch (error) {
            await record(`failed: ${isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR}`);
            throw error;
          }
        };
        return [name, guarded];
      }),
    );
  return {
    ...resolvers,
    Query: guard(QUERY_SCOPES, resolvers.Query as Record<string, unknown>, new Set()) as Resolvers['Query'],
    Mutation: guard(MUTATION_SCOPES, resolvers.Mutation as Record<string, unknown>, AUDITED_MUTATIONS) as Resolvers['Mutation'],
    Subscription: guard(SUBSCRIPTION_SCOPES, resolvers.Subscription as Record<string, unknown>, new Set()) as Resolvers['Subscription'],
  };
}
