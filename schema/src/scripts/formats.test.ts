import { describe, expect, it } from 'vitest';
import { budgetField, BudgetPeriod, parseBudgetField } from './budgets.ts';
import { parseOutputEntry, parseOutputMessage } from './output.ts';
import { parseUsageHourField, parseUsageTotalField, pendingCallCodec, UsageHourMetric, UsageTotalKind } from './usage.ts';

describe('the formats the scripts write', () => {
  it('reads an output chunk the same from the stream and from the channel', () => {
    const fromStream = parseOutputEntry('t1', '2-3', ['t', 'a\nb', 'f', 'rf']);
    expect(fromStream).toEqual({ taskId: 't1', cursor: '2-3', attempt: 2, seq: 3, text: 'a\nb', reset: true, final: true, model: null });
    expect(parseOutputMessage('t1\n2-3\nrf\na\nb')).toEqual(fromStream);
    expect(parseOutputEntry('t1', '1-1', ['t', 'x', 'f', '-'])).toMatchObject({ reset: false, final: false });
    expect(() => parseOutputMessage('t1\n2-3')).toThrow(/malformed/);
  });

  it("reads the model on an attempt's first chunk the same from the stream and from the channel, flag letters in it and all", () => {
    const fromStream = parseOutputEntry('t1', '2-1', ['t', 'a', 'f', 'r', 'm', 'vendor/free-r1']);
    expect(fromStream).toMatchObject({ reset: true, final: false, model: 'vendor/free-r1' });
    expect(parseOutputMessage('t1\n2-1\nr\tvendor/free-r1\na')).toEqual(fromStream);
  });

  it("reads back a budget's field, and nothing that is not one", () => {
    expect(parseBudgetField(budgetField('acme', BudgetPeriod.MONTH))).toEqual({ tenant: 'acme', period: 'MONTH' });
    expect(parseBudgetField('acme\tWEEK')).toBeNull();
    expect(parseBudgetField('acme')).toBeNull();
  });

  it("reads the usage counters' fields, and nothing that is not one", () => {
    expect(parseUsageHourField(`acme\tkey-1\tm/x\t${UsageHourMetric.COST_NANO}`)).toEqual({ tenant: 'acme', apiKeyId: 'key-1', model: 'm/x', metric: 'costNano' });
    expect(parseUsageHourField('acme\tkey-1\tm/x\tsomething')).toBeNull();
    expect(parseUsageTotalField(`acme\tm/x\t${UsageTotalKind.CACHED}`)).toEqual({ tenant: 'acme', model: 'm/x', kind: 'cached' });
    expect(parseUsageTotalField('acme\tm/x')).toBeNull();
  });

  it('reads back a pending call, and refuses what is not one', () => {
    const call = { taskId: 't1', tenant: 'acme', attempt: 2, model: 'm/x', at: 1_700_000_000_000, reservationId: null, promptTokens: 12, generationId: null };
    expect(pendingCallCodec.decode(pendingCallCodec.encode(call))).toEqual(call);
    expect(pendingCallCodec.decode(pendingCallCodec.encode({ ...call, generationId: 'gen-1' }))).toEqual({ ...call, generationId: 'gen-1' });
    // Written before call ids: keyed by the generation id, with none inside.
    const { generationId: _none, ...legacy } = call;
    expect(pendingCallCodec.decode(JSON.stringify(legacy), 'gen-9')).toEqual({ ...call, generationId: 'gen-9' });
    expect(pendingCallCodec.decode('{not json')).toBeNull();
    expect(pendingCallCodec.decode(JSON.stringify({ ...call, attempt: 'two' }))).toBeNull();
  });
});
