/**
 * Static limits on a GraphQL operation, checked during validation (before anything runs),
 * the same on HTTP and WebSocket: depth, aliases, directives, and a cost in which every field
 * costs one, a list argument `first` multiplies what lies under it, and `submitTask` is
 * expensive. Introspection fields are left to the introspection policy.
 *
 * Kept over @escape.tech/graphql-armor 3.2.0 (issue 14, `bench/library-eval.ts`): it has no
 * `first:` cost or submit cap, so this walk stays, and its depth/alias/directive rules (same
 * verdicts once set to our counting) would add 1.15-1.6x to it for messages that read "Syntax
 * Error: ...", while its Apollo preset lets aliased `__typename` through and answers a syntax
 * error or the token limit with 500 (graphql's own `maxTokens` gives 400 GRAPHQL_PARSE_FAILED).
 */
import {
  GraphQLError,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from '../../schema/src/errors.ts';

export interface GraphQLLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Parser token limit (enforced by `parse`, not here). */
  maxTokens: number;
  maxCost: number;
  /** How many tasks one operation may submit. */
  maxSubmits: number;
}

/** What `first` counts as when it is a variable: the most a page may hold. */
const MAX_LIST_SIZE = 100;
const SUBMIT_FIELD = 'submitTask';

export interface OperationMeasure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  submits: number;
}

/**
 * Cost of one submitTask. The number of submits is capped by `maxSubmits` on its own; their
 * cost keeps a batch of submits from also carrying a large read. At most half the budget goes
 * to submits, so `maxSubmits` of them always fit, with room for what they select.
 */
export const submitCost = (limits: GraphQLLimits) => Math.max(1, Math.floor(limits.maxCost / (2 * limits.maxSubmits)));

function listSize(field: FieldNode): number {
  const first = field.arguments?.find((argument) => argument.name.value === 'first');
  if (!first) return 1;
  if (first.value.kind !== Kind.INT) return MAX_LIST_SIZE;
  return Math.min(Math.max(Number(first.value.value), 1), MAX_LIST_SIZE);
}

/** Nothing measured; a selection set's measure is relative to it: its levels, its cost at a multiplier of 1. */
const NOTHING: OperationMeasure = { depth: 0, aliases: 0, directives: 0, cost: 0, submits: 0 };

/**
 * Measures an operation, following fragment spreads (a fragment cycle is counted once). Each
 * fragment is measured once (twice if it is also spread at the root, where `submitTask`
 * counts) and its measure reused at every spread: walking each spread anew is exponential,
 * since 40 fragments that each spread the next twice are 2^40 selections in 300 tokens.
 */
export function measureOperation(
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  limits: GraphQLLimits,
): OperationMeasure {
  const unitSubmitCost = submitCost(limits);
  const measured = new Map<string, OperationMeasure>();
  const open = new Set<string>();

  const measureSpread = (name: string, atRoot: boolean): OperationMeasure => {
    const key = `${atRoot ? 'root' : 'field'}:${name}`;
    const known = measured.get(key);
    if (known) return known;
    const definition = fragment(name);
    if (!definition || open.has(name)) return NOTHING;
    open.add(name);
    const inner = measureSet(definition.selectionSet, atRoot);
    open.delete(name);
    const measure = { ...inner, directives: inner.directives + (definition.directives?.length ?? 0) };
    measured.set(key, measure);
    return measure;
  };

  const measureSet = (set: SelectionSetNode, atRoot: boolean): OperationMeasure => {
    const measure = { ...NOTHING };
    const add = (inner: OperationMeasure) => {
      measure.depth = Math.max(measure.depth, inner.depth);
      measure.aliases += inner.aliases;
      measure.directives += inner.directives;
      measure.cost += inner.cost;
      measure.submits += inner.submits;
    };
    for (const selection of set.selections) {
      measure.directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(measureSet(selection.selectionSet, atRoot));
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        add(measureSpread(selection.name.value, atRoot));
      } else {
        // Every alias counts, `__typename` included: a thousand aliased `__typename`s are a
        // thousand response keys from a few bytes of request.
        if (selection.alias) measure.aliases += 1;
        if (selection.name.value.startsWith('__')) continue;
        const below = selection.selectionSet ? measureSet(selection.selectionSet, false) : NOTHING;
        const isSubmit = atRoot && selection.name.value === SUBMIT_FIELD;
        measure.depth = Math.max(measure.depth, 1 + below.depth);
        measure.aliases += below.aliases;
        measure.directives += below.directives;
        measure.cost += (isSubmit ? unitSubmitCost : 1) + listSize(selection) * below.cost;
        if (isSubmit) measure.submits += 1;
      }
    }
    return measure;
  };

  const measure = measureSet(operation.selectionSet, true);
  return { ...measure, directives: measure.directives + (operation.directives?.length ?? 0) };
}

/** The problems with a measured operation, as messages; empty when it is within limits. */
export function limitViolations(measure: OperationMeasure, limits: GraphQLLimits): string[] {
  const problems: string[] = [];
  if (measure.depth > limits.maxDepth) problems.push(`query is ${measure.depth} levels deep; the limit is ${limits.maxDepth}`);
  if (measure.aliases > limits.maxAliases) problems.push(`query uses ${measure.aliases} aliases; the limit is ${limits.maxAliases}`);
  if (measure.directives > limits.maxDirectives) problems.push(`query uses ${measure.directives} directives; the limit is ${limits.maxDirectives}`);
  if (measure.submits > limits.maxSubmits) {
    problems.push(`an operation may submit at most ${limits.maxSubmits} tasks; this one submits ${measure.submits}`);
  } else if (measure.cost > limits.maxCost) {
    problems.push(`query cost ${measure.cost} exceeds the limit of ${limits.maxCost}`);
  }
  return problems;
}

/** A validation rule enforcing `limits` on every operation of the document. */
export function operationLimitsRule(limits: GraphQLLimits): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const measure = measureOperation(operation, (name) => context.getFragment(name), limits);
      for (const message of limitViolations(measure, limits)) {
        context.reportError(new GraphQLError(message, { nodes: [operation], extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } }));
      }
      return false;
    },
  });
}
