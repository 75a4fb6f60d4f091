/**
 * vitest's file order with the longest files first. Files run side by side (vitest.config.ts,
 * maxWorkers), so a long file that starts last ends the run alone: the chaos run (about 85 s)
 * started near the end added its whole length to the wall time. vitest orders by the last
 * run's durations when it has them (node_modules/.vite/vitest/results.json), which a fresh CI
 * checkout does not; without them it runs the largest files first, which is not the same.
 * LONG_FILES are the longest ones as measured (whole run, 2 cores, December 2026): they start
 * first in this order, the rest keep vitest's order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LONG_FILES = [
  'test/chaos.test.ts',
  'client/test/operations.browser.test.ts',
  'test/faults-workers.test.ts',
  'test/dispatch-live.test.ts',
  'server/test/stalled-subscriber-memory.test.ts',
  'test/shutdown.test.ts',
  'client/test/usage.browser.test.ts',
  'client/test/dispatch.browser.test.ts',
  'test/dispatch-caps.test.ts',
  'test/usage-crash.test.ts',
  'test/output-faults.test.ts',
  'test/rate-limit.test.ts',
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const index = LONG_FILES.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return index === -1 ? LONG_FILES.length : index;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
