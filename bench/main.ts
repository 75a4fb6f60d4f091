/**
 * `npm run bench [-- --quick] [-- --only submit,fan-out] [-- --reps 3] [-- --against <git ref>]`
 *
 * Measures the service against baselines taken in the same run, on the same machine and the
 * same Redis (a private redis-server with AOF on, as in production), because these machines
 * are shared and noisy: every figure that matters is a ratio, paired run by run, and each
 * scenario runs at least 3 times with the order of ours and the baseline rotated.
 *
 * Prints a Markdown table (median and min-max) and writes bench/results/<timestamp>.json.
 * `--quick` is a smoke run for CI (one run each, short windows, smaller K; under a minute):
 * it proves the bench still works and asserts no threshold; its JSON goes to the temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../test/support/redis-server.ts';
import { formatTable, isMet, type Row } from './lib/report.ts';
import { startApiServer, startNoopServer, startRawWsServer, type BenchSystem, type Running } from './lib/system.ts';
import { benchFanout } from './scenarios/fanout.ts';
import { benchGrowth } from './scenarios/growth.ts';
import { benchEndToEnd, benchScale, benchSubmit } from './scenarios/http.ts';
import { benchMemory } from './scenarios/memory.ts';
import { benchRetries } from './scenarios/retries.ts';
import { benchStreaming } from './scenarios/streaming.ts';
import { benchDispatch } from './scenarios/dispatch.ts';
import { benchWorker } from './scenarios/worker.ts';
import { benchTracing } from './scenarios/tracing.ts';
import { benchModelBreakers } from './scenarios/model-breakers.ts';
import { benchPeer } from './scenarios/peer.ts';
import { benchCalls } from './scenarios/calls.ts';

const SCENARIOS = ['submit', 'end-to-end', 'worker', 'retries', 'dispatch', 'tracing', 'fan-out', 'streaming', 'growth', 'memory', 'scale', 'model-breakers', 'peer', 'calls'] as const;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, reps: { type: 'string' }, against: { type: 'string' } } });
const quick = values.quick!;
const only = new Set(values.only ? values.only.split(',') : SCENARIOS);
const reps = Number(values.reps ?? (quick ? 1 : 3));
const started = new Date();
const log: string[] = [];
const say = (line: string) => {
  log.push(line);
  console.log(`[bench] ${line}`);
};

const redis = await startRedis({ appendOnly: true });
const system: BenchSystem = { redis, quick, reps, log: say };
const running: Running[] = [];
const rows: Row[] = [];
let failed = false;
try {
  const [api, noop, raw] = await Promise.all([startApiServer(system), startNoopServer(system), startRawWsServer(system)]);
  running.push(api, noop, raw);
  const flush = async () => {
    await redis.client.flushall();
  };
  const scenarios: Record<(typeof SCENARIOS)[number], () => Promise<Row[]>> = {
    submit: () => benchSubmit(system, api, noop),
    'end-to-end': () => benchEndToEnd(system, api, noop, flush),
    worker: () => benchWorker(system, api, flush),
    retries: () => benchRetries(system, api, flush),
    // --against <ref>: an earlier commit's server and worker, for the dispatcher's price.
    dispatch: () => benchDispatch(system, flush, values.against),
    // --against <ref>: also tracing off here against that commit (e.g. the one before tracing).
    tracing: () => benchTracing(system, values.against),
    'fan-out': () => benchFanout(system, api, noop, raw),
    streaming: () => benchStreaming(system, api),
    growth: () => benchGrowth(system),
    memory: () => benchMemory(system),
    scale: () => benchScale(system, api, flush),
    'model-breakers': () => benchModelBreakers(system),
    // The BullMQ pipeline beside ours, both at once on Redis servers of their own (issue 25).
    peer: () => benchPeer(system),
    // A task's Redis commands, call by call (MONITOR at a light load; issue 25).
    calls: () => benchCalls(system),
  };
  say(`${quick ? 'quick' : 'full'} run, ${reps} run(s) per scenario, ${cpus().length} cores, load ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  for (const name of SCENARIOS) {
    if (!only.has(name)) continue;
    await flush();
    const scenarioStart = performance.now();
    try {
      rows.push(...(await scenarios[name]()));
    } catch (error) {
      failed = true;
      say(`${name} FAILED: ${(error as Error).stack ?? String(error)}`);
    }
    say(`${name} took ${((performance.now() - scenarioStart) / 1000).toFixed(0)} s`);
  }
} finally {
  await Promise.allSettled(running.map((service) => service.stop()));
  await redis.dispose();
}

const table = formatTable(rows);
console.log(`\n${table}\n`);
const missed = rows.filter((row) => isMet(row) === false).map((row) => `${row.scenario}: ${row.measure}`);
console.log(missed.length ? `targets missed (see docs/performance.md): ${missed.join('; ')}` : 'every target met');
const stamp = started.toISOString().replace(/[:.]/g, '-');
const dir = quick ? tmpdir() : join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${quick ? 'quick-' : ''}${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { startedAt: started.toISOString(), seconds: Math.round((Date.now() - started.getTime()) / 1000), quick, reps, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg() }, rows: rows.map((row) => ({ ...row, met: isMet(row) })), log, table },
    null,
    2,
  ) + '\n',
);
console.log(`results: ${file}`);
// Quick mode asserts nothing but that every scenario ran.
process.exit(failed ? 1 : 0);
