import { describe, expect, it } from 'vitest';
import { testLogger } from '../../test/support/silent-logger.ts';
import type { TaskFlowSnapshot } from './flow-service.ts';
import { createStartRate } from './start-rate.ts';

const message = (id: string, state: string, attempt: number) => JSON.stringify({ id, state, attempt: String(attempt), version: '3', tenant: 't' });

/** A meter on a hand-driven clock and channel; `flowStarts` is what the flow counters show for the last two minutes. */
function meter(flowStarts: number | null = null) {
  let clock = 1_000_000;
  let send: (json: string) => void = () => undefined;
  let flowReads = 0;
  const rate = createStartRate({
    listen: async (onMessage) => {
      send = onMessage;
      return { dispose: () => undefined };
    },
    flow: async (): Promise<TaskFlowSnapshot> => {
      flowReads += 1;
      if (flowStarts === null) throw new Error('redis is down');
      const start = clock - (clock % 60_000) - 60_000;
      return { minutes: 2, at: clock, buckets: [{ start, transitions: [{ from: 'PENDING', to: 'ACTIVE', count: flowStarts }] }, { start: start + 60_000, transitions: [] }] };
    },
    windowMs: 30_000,
    logger: testLogger('start-rate'),
    now: () => clock,
  });
  return {
    rate,
    send: (json: string) => send(json),
    advance: (ms: number) => (clock += ms),
    get flowReads() {
      return flowReads;
    },
    set flowStarts(value: number | null) {
      flowStarts = value;
    },
    clock: () => clock,
  };
}

describe('createStartRate', () => {
  it('counts each new attempt in ACTIVE as one start, not its progress events nor other states', async () => {
    const m = meter();
    await m.rate.start();
    m.advance(30_000);
    for (let i = 0; i < 30; i += 1) {
      m.send(message(`task-${i}`, 'ACTIVE', 1));
      m.send(message(`task-${i}`, 'ACTIVE', 1));
      m.send(message(`task-${i}`, 'COMPLETED', 1));
    }
    // A takeover is another attempt: another start.
    m.send(message('task-0', 'ACTIVE', 2));
    m.send('not json "state":"ACTIVE"');
    expect(await m.rate.rate()).toBeCloseTo(31 / 30_000, 12);
    // Starts leave the window as it slides.
    m.advance(30_000);
    m.flowStarts = null;
    expect(await m.rate.rate()).toBeNull();
  });

  it('falls back to the flow counters before it has listened a whole window, reading them at most every 5 s', async () => {
    const m = meter(120);
    await m.rate.start();
    m.send(message('a', 'ACTIVE', 1));
    const rate = await m.rate.rate();
    // 120 starts over the last full minute plus the part of this one that has passed.
    expect(rate).toBeCloseTo(120 / (m.clock() % 60_000 + 60_000), 12);
    await m.rate.rate();
    expect(m.flowReads).toBe(1);
    m.advance(5000);
    await m.rate.rate();
    expect(m.flowReads).toBe(2);
  });

  it('has no rate when nothing started, and looks again at the first start after that', async () => {
    const m = meter(0);
    await m.rate.start();
    expect(await m.rate.rate()).toBeNull();
    m.flowStarts = 6;
    expect(await m.rate.rate()).toBeNull();
    m.send(message('a', 'ACTIVE', 1));
    expect(await m.rate.rate()).not.toBeNull();
    expect(m.flowReads).toBe(2);
  });
});
