/**
 * The short chaos run (about 60 s of faults; CHAOS_TEST_DURATION_S changes it): 2 API
 * servers, 3 workers, 200 subscribers, random SIGKILL/SIGSTOP/SIGTERM, Redis restarts and
 * SCRIPT FLUSH, then the audit of I1-I9. `npm run chaos` runs the same for 5 minutes.
 */
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from '../chaos/run-chaos.ts';

const seconds = Number(process.env.CHAOS_TEST_DURATION_S ?? 60);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

describe('chaos', () => {
  it(`keeps I1-I9 through ${seconds} s of random faults (seed ${seed})`, { timeout: (seconds + 240) * 1000 }, async () => {
    const lines: string[] = [];
    const report = await runChaos({ durationMs: seconds * 1000, ratePerSecond: 6, seed, log: (line) => lines.push(line) });
    const summary = formatChaosReport(report);
    console.log(summary);
    expect(report.ok, `${summary}\n${lines.join('\n')}`).toBe(true);
    expect(report.accepted).toBeGreaterThan(seconds * 2);
    expect(Object.values(report.faults).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(3);
  });
});
