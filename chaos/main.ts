/**
 * `npm run chaos [-- --duration 300 --rate 15 --seed 1 --stream-share 0.2]`: the fault run of chaos/run-chaos.ts.
 * Exits 1 when an invariant broke. CHAOS_DURATION_S works as well as --duration.
 */
import { parseArgs } from 'node:util';
import { formatChaosReport, runChaos } from './run-chaos.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    subscribers: { type: 'string' },
    'stream-share': { type: 'string' },
  },
});
const seconds = Number(values.duration ?? process.env.CHAOS_DURATION_S ?? 300);
const report = await runChaos({
  durationMs: seconds * 1000,
  ...(values.rate ? { ratePerSecond: Number(values.rate) } : {}),
  ...(values.subscribers ? { subscribers: Number(values.subscribers) } : {}),
  ...(values['stream-share'] ? { streamShare: Number(values['stream-share']) } : {}),
  seed: Number(values.seed ?? process.env.CHAOS_SEED ?? Date.now() % 100000),
});
console.log(formatChaosReport(report));
process.exit(report.ok ? 0 : 1);
