/**
 * The client's closed set of task states, as a table keyed by the generated `TaskState`: a new
 * state in the schema does not compile until this table says what an operator may do with it
 * and whether a task in it may still write output (then the pages follow its output live).
 * The server enforces the same rules (retryTask / cancelTask answer CONFLICT otherwise); the
 * table only decides which buttons are offered and which selected rows a bulk action sends.
 */
import type { TaskState } from './gql/graphql.ts';

/** In the schema's order, which the state filter and the state sort follow. */
const STATE_ACTIONS = {
  PENDING: { cancellable: true, retryable: false, writing: true },
  ACTIVE: { cancellable: true, retryable: false, writing: true },
  SCHEDULED: { cancellable: true, retryable: false, writing: true },
  COMPLETED: { cancellable: false, retryable: false, writing: false },
  DLQ: { cancellable: false, retryable: true, writing: false },
  CANCELLED: { cancellable: false, retryable: true, writing: false },
} as const satisfies Record<TaskState, { cancellable: boolean; retryable: boolean; writing: boolean }>;

/** Every task state, in the schema's order. */
export const TASK_STATES = Object.keys(STATE_ACTIONS) as TaskState[];

/** Whether `value` (e.g. from the URL) names a task state. */
export const isTaskState = (value: string | null): value is TaskState => value !== null && Object.hasOwn(STATE_ACTIONS, value);

// A state from a server newer than this bundle is in no table: it offers no action.
const actionsOf = (state: TaskState) => (isTaskState(state) ? STATE_ACTIONS[state] : null);

/** PENDING, ACTIVE and SCHEDULED tasks can be cancelled. */
export const isCancellable = (state: TaskState): boolean => actionsOf(state)?.cancellable ?? false;

/** DLQ and CANCELLED tasks can be retried. */
export const isRetryable = (state: TaskState): boolean => actionsOf(state)?.retryable ?? false;

/**
 * PENDING, ACTIVE and SCHEDULED tasks may still write output (a SCHEDULED one on its next
 * attempt); a retried DLQ or CANCELLED task is PENDING again. An unknown state is not followed.
 */
export const isWriting = (state: TaskState): boolean => actionsOf(state)?.writing ?? false;
