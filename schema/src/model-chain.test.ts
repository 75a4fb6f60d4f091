import { describe, expect, it } from 'vitest';
import { decodeTaskChain, encodeTaskChain, MODEL_SWITCH_TRANSITION, parseUsageLog, START_OF_CHAIN, transitionModel } from './model-chain.ts';

describe('model chain formats', () => {
  it('reads back a chain it wrote, and the start of the configured chain from anything else', () => {
    const chain = { models: ['a/x', 'b/y'], index: 1, switchReason: 'STREAM_BROKEN' as const };
    expect(decodeTaskChain(encodeTaskChain(chain))).toEqual(chain);
    for (const junk of [undefined, null, '', '{', '[]', '{"index":-1,"models":[1],"switchReason":"NOPE"}']) expect(decodeTaskChain(junk)).toEqual(START_OF_CHAIN);
  });

  it('parses the usage log line by line, skipping a line it cannot read', () => {
    const log = '{"a":1,"m":"a/x","i":0,"s":null,"g":"gen-1","p":3,"c":4,"n":11,"e":0,"t":5}\n{torn\n{"a":2,"m":"b/y","i":1,"s":"STREAM_BROKEN","g":null,"p":3,"c":0,"n":3,"e":1,"t":6}';
    expect(parseUsageLog(log)).toEqual([
      { attempt: 1, model: 'a/x', chainIndex: 0, switchReason: null, generationId: 'gen-1', promptTokens: 3, completionTokens: 4, costNano: 11, estimated: false, at: 5 },
      { attempt: 2, model: 'b/y', chainIndex: 1, switchReason: 'STREAM_BROKEN', generationId: null, promptTokens: 3, completionTokens: 0, costNano: 3, estimated: true, at: 6 },
    ]);
  });

  it("shows a call's model on the transition that ended its attempt, and the switch reason on a switch only", () => {
    const usageLog = '{"a":2,"m":"b/y","i":1,"s":null,"g":null,"p":1,"c":1,"n":1,"e":0,"t":1}';
    const chain = encodeTaskChain({ models: null, index: 2, switchReason: 'STREAM_BROKEN' });
    expect(transitionModel({ attempt: 2, state: 'SCHEDULED', usageLog, chain }, MODEL_SWITCH_TRANSITION)).toEqual({ model: 'b/y', chainIndex: 1, switchReason: 'STREAM_BROKEN' });
    expect(transitionModel({ attempt: 2, state: 'COMPLETED', usageLog, chain }, 'completed')).toEqual({ model: 'b/y', chainIndex: 1, switchReason: null });
    // A claim, and an attempt no call answered (the last call is an earlier attempt's).
    expect(transitionModel({ attempt: 2, state: 'ACTIVE', usageLog, chain }, 'claimed').model).toBeNull();
    expect(transitionModel({ attempt: 3, state: 'SCHEDULED', usageLog, chain }, 'circuit open').model).toBeNull();
  });
});
