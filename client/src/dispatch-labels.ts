/**
 * What the web app says about the fair dispatcher (docs/dispatch.md): why a task waits, where it
 * stands, and its priority. The closed sets are tables keyed by the generated types, so a new
 * wait reason or priority in the schema does not compile until it has words here.
 */
import type { TaskPriority, TaskState, WaitReason } from './gql/graphql.ts';

/** Each reason in words: `text` for a task's page, `short` for a row of a list. */
const WAIT_REASON_WORDS = {
  QUEUED: { short: 'queued', text: 'Queued behind other tasks' },
  TENANT_CAP: { short: 'tenant at cap', text: 'Its tenant already runs as many tasks as its cap allows' },
  TENANT_PAUSED: { short: 'paused', text: 'Its tenant is paused' },
  PROVIDER_TOKENS: { short: 'token limit', text: "The provider's token limit has no room for it yet" },
  PROVIDER_HOLD: { short: 'provider hold', text: 'The provider asked every worker to hold its calls' },
  CIRCUIT_OPEN: { short: 'breaker open', text: "The provider's circuit breaker is open" },
  BUDGET: { short: 'budget spent', text: "Its tenant's budget is spent" },
  RETRY_DELAY: { short: 'retry delay', text: 'Waiting out the delay before its next attempt' },
} as const satisfies Record<WaitReason, { short: string; text: string }>;

/** Every wait reason this bundle has words for. */
export const WAIT_REASONS = Object.keys(WAIT_REASON_WORDS) as WaitReason[];

// A reason from a server newer than this bundle is shown as its name in lower case.
const wordsOf = (reason: WaitReason) =>
  Object.hasOwn(WAIT_REASON_WORDS, reason) ? WAIT_REASON_WORDS[reason] : { short: reason.toLowerCase().replaceAll('_', ' '), text: reason };

/** Why a task waits, as a sentence for its page. */
export const waitReasonText = (reason: WaitReason): string => wordsOf(reason).text;

/** Why a task waits, in a word or two for a list row. */
export const waitReasonShort = (reason: WaitReason): string => wordsOf(reason).short;

/** "next", "1 task ahead", "12 tasks ahead": how many tasks start before this one. */
export function positionText(position: number): string {
  if (position <= 0) return 'next';
  return position === 1 ? '1 task ahead' : `${position} tasks ahead`;
}

/** "next", "3 ahead": the position in a list row. */
export const positionShort = (position: number): string => (position <= 0 ? 'next' : `${position} ahead`);

/** The priorities in the order the submit form offers them. */
const PRIORITY_WORDS = {
  HIGH: 'High',
  NORMAL: 'Normal',
  LOW: 'Low',
} as const satisfies Record<TaskPriority, string>;

export const TASK_PRIORITIES = Object.keys(PRIORITY_WORDS) as TaskPriority[];

/** A priority's name for people ("High"); an unknown one as its own name. */
export const priorityLabel = (priority: TaskPriority): string => (Object.hasOwn(PRIORITY_WORDS, priority) ? PRIORITY_WORDS[priority] : priority);

/** Where a waiting task stands, as a list or a task page holds it. */
export interface TaskStanding {
  waitReason: WaitReason | null;
  queuePosition: number | null;
  estimatedStartAt: string | null;
}

/** The states in which a task may wait (and so has a standing): PENDING and SCHEDULED. */
export const mayWait = (state: TaskState): boolean => state === 'PENDING' || state === 'SCHEDULED';
