/**
 * Per-model faults of a chaos run (issue 22): the workers run a chain of three models
 * (OPENROUTER_MODELS), each priced differently at the fake provider, and at random times (a
 * seeded stream of their own) one model is given a behaviour at the fake for a while
 * (tools/fake-openrouter-models.ts, `setModel`): it goes down (every call a 503 before output),
 * it answers a burst of 429s, or its streams are cut after a few chunks (half of them). The
 * behaviour is cleared when its time is up; a model has one fault at a time. When the run ends
 * every model is cleared, so every task can finish.
 *
 * What the audit then asks (chaos/usage-audit.ts): every ledger entry names the model the fake
 * answered its call with, and the ledger's total by model equals the bill by model.
 */
import type { FakeModelBehaviour, FakeOpenRouter } from '../tools/fake-openrouter.ts';
import type { ModelPrice } from '../schema/src/usage.ts';
import { sleep } from './random.ts';

/** The chain, in order, and what each model costs per token at the fake (all different: a call priced at the wrong model shows). */
export const CHAOS_MODELS = ['chaos/alpha', 'chaos/beta', 'chaos/gamma'] as const;
export const CHAOS_MODEL_PRICES: Record<(typeof CHAOS_MODELS)[number], ModelPrice> = {
  'chaos/alpha': { promptUsd: 0.000001, completionUsd: 0.000002 },
  'chaos/beta': { promptUsd: 0.000003, completionUsd: 0.000015 },
  'chaos/gamma': { promptUsd: 0.00000025, completionUsd: 0.00000125 },
};

export type ModelFaultKind = 'down' | '429 burst' | 'cut streams';

/** One fault the run set on a model, with when it was set and cleared (epoch ms). */
export interface ModelFault {
  kind: ModelFaultKind;
  model: string;
  behaviour: FakeModelBehaviour;
  setAt: number;
  clearedAt: number | null;
}

export interface ModelFaultOptions {
  fake: Pick<FakeOpenRouter, 'setModel'>;
  models: readonly string[];
  /** Mean pause between two faults (each pause is 0.5-1.5 times it). */
  everyMs: number;
  /** How long faults last, times this (default 1; a test shortens them). */
  durationScale?: number;
  random(): number;
}

export interface ModelFaults {
  faults: readonly ModelFault[];
  /** How many of each kind were set. */
  counts(): Record<ModelFaultKind, number>;
  /** Stops the events and clears every model's behaviour (also those still running). */
  stop(): Promise<void>;
}

/** How long each kind lasts (from, to ms), and the behaviour it gives the model. */
const KINDS: { kind: ModelFaultKind; weight: number; lastsMs: [number, number]; behaviour(random: () => number): FakeModelBehaviour }[] = [
  { kind: 'down', weight: 1, lastsMs: [1000, 4000], behaviour: () => ({ down: true }) },
  { kind: '429 burst', weight: 1, lastsMs: [500, 2000], behaviour: () => ({ rateLimited: true }) },
  // After 2-8 text chunks, half the streams (the fake's own random, unseeded: the call order is not repeatable anyway).
  { kind: 'cut streams', weight: 2, lastsMs: [2000, 5000], behaviour: (random) => ({ breakAfterChunks: 2 + Math.floor(random() * 7), breakRate: 0.5 }) },
];
const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0);

/** Starts the model fault events; `stop()` ends them and clears every model. */
export function startModelFaults({ fake, models, everyMs, durationScale = 1, random }: ModelFaultOptions): ModelFaults {
  const faults: ModelFault[] = [];
  const busy = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let running = true;

  const clear = (fault: ModelFault) => {
    fake.setModel(fault.model, null);
    fault.clearedAt = Date.now();
    busy.delete(fault.model);
  };

  const loop = (async () => {
    while (running) {
      await sleep(everyMs * (0.5 + random()));
      if (!running) break;
      const free = models.filter((model) => !busy.has(model));
      if (free.length === 0) continue;
      const model = free[Math.floor(random() * free.length)]!;
      let roll = random() * TOTAL_WEIGHT;
      const kind = KINDS.find((candidate) => (roll -= candidate.weight) < 0) ?? KINDS[0]!;
      const fault: ModelFault = { kind: kind.kind, model, behaviour: kind.behaviour(random), setAt: Date.now(), clearedAt: null };
      busy.add(model);
      fake.setModel(model, fault.behaviour);
      faults.push(fault);
      const lastsMs = (kind.lastsMs[0] + random() * (kind.lastsMs[1] - kind.lastsMs[0])) * durationScale;
      const timer = setTimeout(() => {
        timers.delete(timer);
        clear(fault);
      }, lastsMs);
      timers.add(timer);
    }
  })();

  return {
    faults,
    counts() {
      const counts: Record<ModelFaultKind, number> = { down: 0, '429 burst': 0, 'cut streams': 0 };
      for (const fault of faults) counts[fault.kind] += 1;
      return counts;
    },
    async stop() {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await loop;
      for (const fault of faults) if (fault.clearedAt === null) clear(fault);
      for (const model of models) fake.setModel(model, null);
    },
  };
}

/** The report's line on them. */
export function formatModelFaults(models: readonly string[], counts: Record<ModelFaultKind, number>): string {
  return `models: chain ${models.join(',')}; faults ${Object.entries(counts).map(([kind, n]) => `${kind} x${n}`).join(', ')}`;
}
