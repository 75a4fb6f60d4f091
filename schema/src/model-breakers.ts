/**
 * The breaker of each model, shared by every worker in Redis: what its scripts
 * (scripts/model-breakers.ts) write and the worker's cache, the `models` query and /metrics
 * read. No I/O here.
 *
 * Redis holds, under the deployment's prefix (redis-keys.ts):
 *   `modelBreakers()`     hash, one field per model -> its state (`encodeModelBreaker`); a model
 *                         gets a field with its first recorded call, so the hash lists every
 *                         model called (a model without one is closed).
 *   `modelCalls(model)`   hash of the model's recent call counts in tenth-of-window buckets:
 *                         `c:<bucket start ms>` calls, `f:<bucket start ms>` failures that say
 *                         the model is unwell. Old buckets are dropped by the next record, and
 *                         the hash expires a window after its last write: bounded memory.
 *   `modelProbe(model)`   string (SET NX PX): the probe lease of a half-open breaker.
 *   `modelCallTotals()`   hash `<model>\t<outcome>` -> all-time calls (for /metrics).
 *
 * Times are Redis' clock (TIME), as in every script.
 */
import { CircuitState } from './circuit.ts';

/** How a call to a model ended, as far as its breaker cares. */
export const ModelCallOutcome = {
  /** Answered. */
  OK: 'ok',
  /** Failed in a way that says the model is unwell (worker/resilience.ts `countsAgainstProvider`). */
  FAILED: 'failed',
  /** Failed for a reason that says nothing of the model (4xx, content filter, rate limit): counted in the totals only. */
  OTHER: 'other',
} as const;
export type ModelCallOutcome = (typeof ModelCallOutcome)[keyof typeof ModelCallOutcome];
export const MODEL_CALL_OUTCOMES = Object.values(ModelCallOutcome);

/** One model's breaker as stored (Redis ms). */
export interface ModelBreakerRecord {
  state: CircuitState;
  /** When it last opened; null while closed. */
  openedAt: number | null;
  /** When an open breaker lets one probe through; null while closed, and when forced open by an operator (no probe until a reset). */
  halfOpenAt: number | null;
  /** While half-open: when the probe's lease ends (another caller may probe after it). */
  probeUntil: number | null;
}

export const CLOSED_BREAKER: ModelBreakerRecord = { state: CircuitState.CLOSED, openedAt: null, halfOpenAt: null, probeUntil: null };

const STATES: ReadonlySet<string> = new Set(Object.values(CircuitState));
const optionalMs = (text: string | undefined) => (text === undefined || text === '' || !Number.isFinite(Number(text)) ? null : Number(text));
const written = (value: number | null) => (value === null ? '' : String(value));

/** A state field's value: `<STATE>:<openedAt>:<halfOpenAt>:<probeUntil>`, '' for none (the Lua writes the same). */
export function encodeModelBreaker(record: ModelBreakerRecord): string {
  return [record.state, written(record.openedAt), written(record.halfOpenAt), written(record.probeUntil)].join(':');
}

/** A state field's value read back; anything unreadable reads as closed (a hand-edited key never blocks a model). */
export function decodeModelBreaker(value: string | undefined): ModelBreakerRecord {
  const [state, openedAt, halfOpenAt, probeUntil] = (value ?? '').split(':');
  if (state === undefined || !STATES.has(state)) return CLOSED_BREAKER;
  return { state: state as CircuitState, openedAt: optionalMs(openedAt), halfOpenAt: optionalMs(halfOpenAt), probeUntil: optionalMs(probeUntil) };
}

/** Every model's breaker in the `modelBreakers()` hash (HGETALL's answer). */
export function decodeModelBreakers(fields: Record<string, string>): Map<string, ModelBreakerRecord> {
  return new Map(Object.entries(fields).map(([model, value]) => [model, decodeModelBreaker(value)]));
}

/**
 * The state operators are shown at `now`: an open breaker whose probe time has come is half-open
 * (the next call is the probe), as the per-worker breakers report it.
 */
export function effectiveState(record: ModelBreakerRecord, now: number): CircuitState {
  if (record.state === CircuitState.OPEN && record.halfOpenAt !== null && record.halfOpenAt <= now) return CircuitState.HALF_OPEN;
  return record.state;
}

/** The length of one count bucket: a tenth of the window (at least 1 ms). The Lua computes the same. */
export const bucketMsOf = (windowMs: number) => Math.max(1, Math.floor(windowMs / 10));

/** The calls and failures a `modelCalls` hash holds in the window ending at `now`: buckets that start after `now - windowMs`. */
export function windowCounts(fields: Record<string, string>, now: number, windowMs: number): { calls: number; failures: number } {
  let calls = 0;
  let failures = 0;
  for (const [field, value] of Object.entries(fields)) {
    const kind = field.slice(0, 2);
    const start = Number(field.slice(2));
    if ((kind !== 'c:' && kind !== 'f:') || !Number.isFinite(start) || start <= now - windowMs || start > now) continue;
    const count = Number(value) || 0;
    if (kind === 'c:') calls += count;
    else failures += count;
  }
  return { calls, failures };
}

/** A field of `modelCallTotals()`, and the model and outcome it counts (null for a field that is not one). */
export const modelTotalField = (model: string, outcome: ModelCallOutcome) => `${model}\t${outcome}`;
export function parseModelTotalField(field: string): { model: string; outcome: ModelCallOutcome } | null {
  const tab = field.lastIndexOf('\t');
  const outcome = field.slice(tab + 1) as ModelCallOutcome;
  return tab > 0 && MODEL_CALL_OUTCOMES.includes(outcome) ? { model: field.slice(0, tab), outcome } : null;
}

/** A model id as the breakers accept it: what OpenRouter ids look like, without separators the storage uses. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/** Whether a value from outside (a provider's answer) may be stored as a model id. */
export const isModelId = (value: unknown): value is string => typeof value === 'string' && MODEL_ID_PATTERN.test(value);
