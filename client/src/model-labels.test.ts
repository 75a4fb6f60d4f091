import { parse, type EnumTypeDefinitionNode } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import taskSchema from '../../schema/task.graphql?raw';
import type { ModelSwitchReason } from './gql/graphql.ts';
import { chainPlaceLabel, modelChanges, SWITCH_REASONS, switchReasonShort, switchReasonText } from './model-labels.ts';

function schemaEnum(name: string): string[] {
  const document = parse(taskSchema);
  const found = document.definitions.find((node): node is EnumTypeDefinitionNode => node.kind === 'EnumTypeDefinition' && node.name.value === name);
  return found?.values?.map((value) => value.name.value) ?? [];
}

describe('switch reasons', () => {
  it('has words for every ModelSwitchReason of the schema, and no other', () => {
    expectTypeOf(SWITCH_REASONS).toEqualTypeOf<ModelSwitchReason[]>();
    expect([...SWITCH_REASONS].sort()).toEqual(schemaEnum('ModelSwitchReason').sort());
    for (const reason of SWITCH_REASONS) {
      expect(switchReasonShort(reason)).not.toBe('');
      expect(switchReasonText(reason)).not.toBe('');
    }
    expect(switchReasonShort('STREAM_BROKEN')).toBe('stream broke');
  });

  it('shows a reason from a newer server as its name', () => {
    expect(switchReasonShort('PRICE_CAP' as ModelSwitchReason)).toBe('price cap');
  });
});

describe('chain places', () => {
  it('calls the first model the primary and the others fallbacks, counted from 1', () => {
    expect([0, 1, 2].map(chainPlaceLabel)).toEqual(['primary', 'fallback 1', 'fallback 2']);
  });
});

describe('modelChanges', () => {
  it('marks the first model named and each step that names another one', () => {
    const steps = [{ model: null }, { model: 'a' }, {}, { model: 'a' }, { model: 'b' }, { model: null }, { model: 'b' }, { model: 'a' }];
    expect(modelChanges(steps)).toEqual([false, true, false, false, true, false, false, true]);
  });
});
