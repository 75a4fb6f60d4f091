import { parse, type EnumTypeDefinitionNode } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import dispatchSchema from '../../schema/dispatch.graphql?raw';
import type { TaskPriority, WaitReason } from './gql/graphql.ts';
import { mayWait, positionShort, positionText, priorityLabel, TASK_PRIORITIES, WAIT_REASONS, waitReasonShort, waitReasonText } from './dispatch-labels.ts';

/** The values of an enum of schema/dispatch.graphql, the contract the generated types come from. */
function schemaEnum(name: string): string[] {
  const document = parse(dispatchSchema);
  const found = document.definitions.find((node): node is EnumTypeDefinitionNode => node.kind === 'EnumTypeDefinition' && node.name.value === name);
  return found?.values?.map((value) => value.name.value) ?? [];
}

describe('wait reasons', () => {
  it('has words for every WaitReason of the generated types and the schema, and no other', () => {
    expectTypeOf<(typeof WAIT_REASONS)[number]>().toEqualTypeOf<WaitReason>();
    expect([...WAIT_REASONS].sort()).toEqual(schemaEnum('WaitReason').sort());
    for (const reason of WAIT_REASONS) {
      expect(waitReasonText(reason)).toMatch(/^[A-Z]/);
      expect(waitReasonShort(reason)).toMatch(/^[a-z]/);
    }
    expect(new Set(WAIT_REASONS.map(waitReasonShort)).size).toBe(WAIT_REASONS.length);
  });

  it('says a paused tenant is paused, and shows a reason from a newer server as its name', () => {
    expect(waitReasonShort('TENANT_PAUSED')).toBe('paused');
    expect(waitReasonText('TENANT_PAUSED')).toBe('Its tenant is paused');
    const newer = 'MAINTENANCE_WINDOW' as WaitReason;
    expect([waitReasonShort(newer), waitReasonText(newer)]).toEqual(['maintenance window', 'MAINTENANCE_WINDOW']);
    expect(waitReasonShort('toString' as WaitReason)).toBe('tostring');
  });

  it('says how many tasks start first, "next" for none', () => {
    expect([0, 1, 12].map(positionText)).toEqual(['next', '1 task ahead', '12 tasks ahead']);
    expect([0, 1, 12].map(positionShort)).toEqual(['next', '1 ahead', '12 ahead']);
  });

  it('finds standings only in the states a task waits in', () => {
    expect((['PENDING', 'ACTIVE', 'SCHEDULED', 'COMPLETED', 'DLQ', 'CANCELLED'] as const).filter(mayWait)).toEqual(['PENDING', 'SCHEDULED']);
  });
});

describe('priorities', () => {
  it('offers every TaskPriority, high to low, with a name', () => {
    expectTypeOf<(typeof TASK_PRIORITIES)[number]>().toEqualTypeOf<TaskPriority>();
    expect(TASK_PRIORITIES).toEqual(['HIGH', 'NORMAL', 'LOW']);
    expect([...TASK_PRIORITIES].sort()).toEqual(schemaEnum('TaskPriority').sort());
    expect(TASK_PRIORITIES.map(priorityLabel)).toEqual(['High', 'Normal', 'Low']);
  });
});
