/**
 * The fair dispatcher's vocabulary, as server and worker agree on it: task priorities and what
 * they move, why a task waits, a task's cost, the dispatcher's state fields (`RedisKeys
 * .dispatchState`) and the members of its sorted sets. The scripts that keep this state live in
 * scripts/dispatch.ts; docs/dispatch.md explains the order. No I/O here.
 */
import { z } from 'zod';
import { TransitionReason } from './transition-reasons.ts';

export const TaskPriority = { HIGH: 'HIGH', NORMAL: 'NORMAL', LOW: 'LOW' } as const;
export type TaskPriority = (typeof TaskPriority)[keyof typeof TaskPriority];
export const TASK_PRIORITIES = Object.values(TaskPriority);
export const taskPrioritySchema = z.enum(TASK_PRIORITIES);

/** How far a priority moves a task in its tenant's line, in units of PRIORITY_OFFSET_MS. */
export const PRIORITY_SHIFT: Readonly<Record<TaskPriority, number>> = { HIGH: -1, NORMAL: 0, LOW: 1 };

export const WaitReason = {
  QUEUED: 'QUEUED',
  TENANT_CAP: 'TENANT_CAP',
  TENANT_PAUSED: 'TENANT_PAUSED',
  PROVIDER_TOKENS: 'PROVIDER_TOKENS',
  PROVIDER_HOLD: 'PROVIDER_HOLD',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  BUDGET: 'BUDGET',
  RETRY_DELAY: 'RETRY_DELAY',
} as const;
export type WaitReason = (typeof WaitReason)[keyof typeof WaitReason];
export const WAIT_REASONS = Object.values(WaitReason);
export const waitReasonSchema = z.enum(WAIT_REASONS);

/** A tenant's policy when none was set. */
export const DEFAULT_WEIGHT = 1;
export const MAX_WEIGHT = 1000;

/**
 * A task's cost to the dispatcher and the provider token limit: its estimated prompt tokens plus
 * the completion cap (MAX_COMPLETION_TOKENS). At least 1, so every start moves its tenant's tag.
 */
export function taskCost(promptTokens: number, maxCompletionTokens: number): number {
  return Math.max(1, Math.ceil(promptTokens) + Math.max(0, Math.floor(maxCompletionTokens)));
}

/** The line (new work, or retries and takeovers) a waiting task is in, as the task record's `queued` field says. */
export const DispatchLane = { NEW: 'new', RETRY: 'retry' } as const;
export type DispatchLane = (typeof DispatchLane)[keyof typeof DispatchLane];

/** Fields of one tenant in the dispatcher's state hash: `<tenant>\t<field>`. */
export const TenantField = {
  /** Its share against other backlogged tenants (absent: DEFAULT_WEIGHT). */
  WEIGHT: 'weight',
  /** At most this many attempts with a live lease (absent: no cap). */
  CAP: 'cap',
  /** '1' while paused. */
  PAUSED: 'paused',
  /** '1' while the tenant is in the ready set (or about to be found there with an empty line). */
  LISTED: 'listed',
  /** Its virtual tag while it is not listed: where its last start left it, or where it was held. */
  TAG: 'tag',
  /** Tasks in its retry line (its new line is counted by ZCARD when needed). */
  RETRIES: 'retries',
  /** Smooth weighted round robin credit of its retry line against its new line. */
  CREDIT: 'credit',
  /** Why it is out of the ready set with work waiting: 'cap' or 'paused' ('' when it is not). */
  BLOCKED: 'blocked',
} as const;
export type TenantField = (typeof TenantField)[keyof typeof TenantField];

/** A tenant's field in the state hash. The field name has no tab, so the tenant is all before the last one. */
export const tenantField = (tenant: string, field: TenantField): string => `${tenant}\t${field}`;

/** The tenant and field a state hash field is for, or null for a global one. */
export function parseTenantField(field: string): { tenant: string; field: TenantField } | null {
  const tab = field.lastIndexOf('\t');
  if (tab <= 0) return null;
  const name = field.slice(tab + 1) as TenantField;
  return Object.values(TenantField).includes(name) ? { tenant: field.slice(0, tab), field: name } : null;
}

/** The dispatcher's global fields (a leading tab: no tenant field can be one). */
export const DispatchField = {
  /** The virtual time when no tenant is listed: the tag of the last start. */
  VIRTUAL_TIME: '\tV',
  /** Tickets parked while every waiting task was held: given back when something frees. */
  OWED: '\towed',
  /** Tenants held out of the ready set (cap or pause) with work waiting. */
  BLOCKED: '\tblocked',
  /** The provider token bucket: tokens left, and when it was last filled (ms). */
  TOKENS: '\ttokens',
  TOKENS_AT: '\ttokensAt',
  /** Until when (ms) the head of the line waits for tokens ('' when it does not). */
  TOKENS_WAIT_UNTIL: '\ttokensWait',
} as const;

/** Digits of the head order at the start of a ready member: fixed, so members compare by age first. */
export const READY_ORDER_DIGITS = 17;

/** A ready set member: the order of the tenant's head task, then the tenant. */
export const readyMember = (headOrder: number, tenant: string): string => `${String(Math.trunc(headOrder)).padStart(READY_ORDER_DIGITS, '0')}|${tenant}`;

/** The tenant of a ready set member. */
export const tenantOfReadyMember = (member: string): string => member.slice(READY_ORDER_DIGITS + 1);

/** A line member: the task's cost, then its id (a task id has no `|`). */
export const lineMember = (cost: number, taskId: string): string => `${cost}|${taskId}`;

/** The cost and task id of a line member. */
export function parseLineMember(member: string): { cost: number; taskId: string } {
  const bar = member.indexOf('|');
  return { cost: Number(member.slice(0, bar)), taskId: member.slice(bar + 1) };
}

/** A running set member: a task's attempt (a takeover's attempt is a member of its own). */
export const runningMember = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;

/** Why a task deferred without a provider call waits (the defer script stores it on the task). */
export const DEFER_WAIT_REASON = {
  [TransitionReason.CIRCUIT_OPEN]: WaitReason.CIRCUIT_OPEN,
  [TransitionReason.RATE_LIMITED]: WaitReason.PROVIDER_HOLD,
  [TransitionReason.PROVIDER_HOLD]: WaitReason.PROVIDER_HOLD,
  [TransitionReason.BUDGET]: WaitReason.BUDGET,
} as const satisfies Partial<Record<TransitionReason, WaitReason>>;
export type DeferReason = keyof typeof DEFER_WAIT_REASON;
