/**
 * Model chains: the models a task is tried on, in order, and where it stands in them, as the
 * API stores it, the worker moves it on and the server shows it. No I/O here.
 *
 * The task hash holds (both optional; a task without them runs the configured chain from its start):
 *   `chain`     JSON `{ models, index, switchReason }` (`encodeTaskChain`): the task's own chain
 *               (`SubmitTaskInput.models`; null: the configured one), the place its next attempt
 *               starts from, and why the last attempt moved it there (null: no switch). Written
 *               by the submit (a chain of its own) and by the worker's switch (taskSwitchModel).
 *   `usageLog`  one line of JSON per provider call, appended by recordUsage (scripts/usage.ts),
 *               the last USAGE_LOG_MAX_CALLS calls: the model that answered, its place in the chain, the switch that led to its
 *               attempt, and what it cost. `Task.usage.perCall` and the models in
 *               `Task.history` are read from it.
 */

import { TransitionReason } from './transition-reasons.ts';

/** Why an attempt moved on to another model (GraphQL `ModelSwitchReason`). */
export const ModelSwitchReason = {
  /** The stream broke after output began. */
  STREAM_BROKEN: 'STREAM_BROKEN',
  /** The model refused the prompt as longer than its context. */
  CONTEXT_LENGTH: 'CONTEXT_LENGTH',
  /** The model's content filter refused, and OPENROUTER_CONTENT_FILTER_FALLBACK names a model. */
  CONTENT_FILTER: 'CONTENT_FILTER',
} as const;
export type ModelSwitchReason = (typeof ModelSwitchReason)[keyof typeof ModelSwitchReason];
export const MODEL_SWITCH_REASONS = Object.values(ModelSwitchReason) as [ModelSwitchReason, ...ModelSwitchReason[]];
const SWITCH_REASONS: ReadonlySet<string> = new Set(MODEL_SWITCH_REASONS);
const switchReasonOf = (value: unknown): ModelSwitchReason | null => (typeof value === 'string' && SWITCH_REASONS.has(value) ? (value as ModelSwitchReason) : null);

/** A task's place in its chain. */
export interface TaskChain {
  /** The task's own chain (`SubmitTaskInput.models`); null runs the configured one. */
  models: string[] | null;
  /** Where its next attempt starts (0-based; past the end: the content-filter fallback). */
  index: number;
  /** Why the last attempt moved the task to `index`; null when it did not switch. */
  switchReason: ModelSwitchReason | null;
}

export const START_OF_CHAIN: TaskChain = { models: null, index: 0, switchReason: null };

export function encodeTaskChain(chain: TaskChain): string {
  return JSON.stringify({ models: chain.models, index: chain.index, switchReason: chain.switchReason });
}

/** The `chain` field read back; absent or unreadable is the start of the configured chain (a hand-edited field never stops a task). */
export function decodeTaskChain(value: string | null | undefined): TaskChain {
  if (!value) return START_OF_CHAIN;
  try {
    const parsed = JSON.parse(value) as Record<string, unknown> | null;
    const models = Array.isArray(parsed?.models) && parsed.models.length > 0 && parsed.models.every((m) => typeof m === 'string' && m !== '') ? (parsed.models as string[]) : null;
    const index = Number.isSafeInteger(parsed?.index) && (parsed?.index as number) >= 0 ? (parsed?.index as number) : 0;
    return { models, index, switchReason: switchReasonOf(parsed?.switchReason) };
  } catch {
    return START_OF_CHAIN;
  }
}

/** Most models in one submit's chain. */
export const MAX_CHAIN_LENGTH = 10;

/**
 * Most calls `usageLog` keeps: the oldest line goes when a call would pass it. The log rides in
 * every event of the task (up to TASK_EVENTS_MAX of them), and retries, model switches and
 * reopens add calls without end; the task's sums (`usageCalls`, `usageCostNano`, ...) and the
 * ledger still count every call.
 */
export const USAGE_LOG_MAX_CALLS = 50;

/** One provider call as `usageLog` keeps it (keys `a m i s g p c n e t`, short: the log rides in every event of the task). */
export interface UsageLogEntry {
  attempt: number;
  /** The model that answered (the response's `model`), which the call is priced at. */
  model: string;
  /** Its place in the chain the attempt ran; null when it is not in it. */
  chainIndex: number | null;
  switchReason: ModelSwitchReason | null;
  generationId: string | null;
  promptTokens: number;
  completionTokens: number;
  costNano: number;
  estimated: boolean;
  /** When it was recorded (ms, Redis' clock). */
  at: number;
}

const num = (value: unknown, fallback = 0) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** Every call `usageLog` lists, oldest first; a line it cannot read is skipped (never fails a read). */
export function parseUsageLog(value: string | null | undefined): UsageLogEntry[] {
  if (!value) return [];
  const entries: UsageLogEntry[] = [];
  for (const line of value.split('\n')) {
    try {
      const raw = JSON.parse(line) as Record<string, unknown>;
      if (typeof raw.m !== 'string') continue;
      entries.push({
        attempt: num(raw.a),
        model: raw.m,
        chainIndex: typeof raw.i === 'number' ? raw.i : null,
        switchReason: switchReasonOf(raw.s),
        generationId: typeof raw.g === 'string' ? raw.g : null,
        promptTokens: num(raw.p),
        completionTokens: num(raw.c),
        costNano: num(raw.n),
        estimated: raw.e === 1,
        at: num(raw.t),
      });
    } catch {
      // a torn or hand-edited line
    }
  }
  return entries;
}

/** The transition reason of a switch that moves a task on in its chain without counting a retry. */
export const MODEL_SWITCH_TRANSITION = TransitionReason.MODEL_SWITCH;

/**
 * What a history entry shows of the model chain, from the record as it was after the transition:
 * on a transition that ends an attempt after a call answered (its state is not ACTIVE or PENDING,
 * and the last call logged is of the record's attempt), that call's model and chain place; and on
 * a switch, its reason (whether or not a call answered: a refusal is billed nothing, so logs no
 * call). No model for the others: a claim, a deferral, an attempt no call answered.
 */
export function transitionModel(
  task: { attempt: number; state: string; usageLog: string | null; chain: string | null },
  reason: string | null,
): { model: string | null; chainIndex: number | null; switchReason: ModelSwitchReason | null } {
  // A switch is shown whether or not a call of the attempt answered (a refusal is billed nothing).
  const switchReason = reason === MODEL_SWITCH_TRANSITION ? decodeTaskChain(task.chain).switchReason : null;
  const none = { model: null, chainIndex: null, switchReason };
  if (task.state === 'ACTIVE' || task.state === 'PENDING' || !task.usageLog) return none;
  const last = task.usageLog.slice(task.usageLog.lastIndexOf('\n') + 1);
  const [call] = parseUsageLog(last);
  if (!call || call.attempt !== task.attempt) return none;
  return { model: call.model, chainIndex: call.chainIndex, switchReason };
}
