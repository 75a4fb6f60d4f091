/**
 * What the web app says about model chains (docs/operations.md, "Model chains"): which model an
 * attempt ran on, its place in the chain, and why an attempt moved on to the next model. The
 * switch reasons are a table keyed by the generated type, so a new reason in the schema does not
 * compile until it has words here.
 */
import type { ModelSwitchReason } from './gql/graphql.ts';

/** Each reason in words: `text` for a sentence, `short` for a table cell. */
const SWITCH_REASON_WORDS = {
  STREAM_BROKEN: { short: 'stream broke', text: 'Its stream broke after output began' },
  CONTEXT_LENGTH: { short: 'prompt too long', text: 'The prompt was longer than the model’s context' },
  CONTENT_FILTER: { short: 'content filter', text: 'The model’s content filter refused the prompt' },
} as const satisfies Record<ModelSwitchReason, { short: string; text: string }>;

/** Every switch reason this bundle has words for. */
export const SWITCH_REASONS = Object.keys(SWITCH_REASON_WORDS) as ModelSwitchReason[];

// A reason from a server newer than this bundle is shown as its name in lower case.
const wordsOf = (reason: ModelSwitchReason) =>
  Object.hasOwn(SWITCH_REASON_WORDS, reason) ? SWITCH_REASON_WORDS[reason] : { short: reason.toLowerCase().replaceAll('_', ' '), text: reason };

/** Why the next attempt moved to another model, in a few words. */
export const switchReasonShort = (reason: ModelSwitchReason): string => wordsOf(reason).short;

/** Why the next attempt moved to another model, as a sentence. */
export const switchReasonText = (reason: ModelSwitchReason): string => wordsOf(reason).text;

/** A model's place in its chain (0-based): "primary", then "fallback 1", "fallback 2", … */
export const chainPlaceLabel = (index: number): string => (index === 0 ? 'primary' : `fallback ${index}`);

/**
 * For each step of a timeline, whether it names a model other than the last one named before
 * it: the step where a task went on to another model of its chain (the first model named is a
 * change too, from nothing). Steps that name no model are never a change.
 */
export function modelChanges(steps: readonly { model?: string | null }[]): boolean[] {
  let last: string | null = null;
  return steps.map((step) => {
    if (!step.model) return false;
    const changed = step.model !== last;
    last = step.model;
    return changed;
  });
}
