import { parse, type FragmentDefinitionNode, type OperationDefinitionNode, Kind, type FieldNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectsAnyField } from './selection.ts';

/** The resolve info of the document's first root field. */
function infoOf(source: string) {
  const document = parse(source);
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
  );
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments };
}

const STANDING = new Set(['queuePosition', 'waitReason']);

describe('selectsAnyField', () => {
  it('finds a field selected directly, through a fragment, or an inline fragment', () => {
    expect(selectsAnyField(infoOf('subscription { taskUpdated(id: "a") { id queuePosition } }'), STANDING)).toBe(true);
    expect(selectsAnyField(infoOf('subscription { taskUpdated(id: "a") { ...Row } } fragment Row on Task { id ...More } fragment More on Task { waitReason }'), STANDING)).toBe(true);
    expect(selectsAnyField(infoOf('subscription { taskUpdated(id: "a") { ... on Task { waitReason } } }'), STANDING)).toBe(true);
  });

  it('does not look below the fields of the resolved object, and survives a fragment used twice', () => {
    expect(selectsAnyField(infoOf('subscription { taskUpdated(id: "a") { id state history { state } } }'), STANDING)).toBe(false);
    expect(selectsAnyField(infoOf('subscription { taskUpdated(id: "a") { ...Row ...Row } } fragment Row on Task { id }'), STANDING)).toBe(false);
  });
});
