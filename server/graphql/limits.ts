/**
 * Static limits on a GraphQL operation, checked during validation (before anything runs),
 * the same on HTTP and WebSocket: depth, aliases, directives, and a cost in which every field
 * costs one, a list argument `first` multiplies what lies under it, and `submitTask` is
 * expensive. Introspection fields are left to the introspection policy.
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

/** Measures an operation, following fragment spreads (a fragment cycle is counted once). */
export function measureOperation(
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  limits: GraphQLLimits,
): OperationMeasure {
  const measure: OperationMeasure = { depth: 0, aliases: 0, directives: operation.directives?.length ?? 0, cost: 0, submits: 0 };
  const walk = (set: SelectionSetNode, depth: number, multiplier: number, path: ReadonlySet<string>): void => {
    for (const selection of set.selections) {
      measure.directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        // Every alias counts, `__typename` included: a thousand aliased `__typename`s are a
        // thousand response keys from a few bytes of request.
        if (selection.alias) measure.aliases += 1;
        if (selection.name.value.startsWith('__')) continue;
        measure.depth = Math.max(measure.depth, depth);
        if (selection.name.value === SUBMIT_FIELD && depth === 1) {
          measure.submits += multiplier;
          measure.cost += submitCost(limits) * multiplier;
        } else {
          measure.cost += multiplier;
        }
        if (selection.selectionSet) walk(selection.selectionSet, depth + 1, multiplier * listSize(selection), path);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, depth, multiplier, path);
      } else {
        const name = selection.name.value;
        const definition = fragment(name);
        if (!definition || path.has(name)) continue;
        measure.directives += definition.directives?.length ?? 0;
        walk(definition.selectionSet, depth, multiplier, new Set([...path, name]));
      }
    }
  };
  walk(operation.selectionSet, 1, 1, new Set());
  return measure;
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
