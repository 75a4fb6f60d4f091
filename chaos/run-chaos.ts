/**
 * The chaos run (`npm run chaos`, and `test/chaos.test.ts` in short): the processes
 * (chaos/cluster.ts), the load of several tenants with its ledger and 200 live subscribers
 * (chaos/load.ts, chaos/tenants.ts), for `durationMs` random faults (chaos/faults.ts) and
 * tenant policy changes (chaos/policies.ts) while live leases are sampled
 * (chaos/lease-sampler.ts); then it lets the system settle and audits invariants I1-I9
 * (docs/reliability.md, "What nothing lost means") for every accepted task
 * (chaos/invariants.ts), the caps and starvation (chaos/dispatch-audit.ts), and reports
 * (chaos/report.ts).
 */
import { join } from 'node:path';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { chaosCompletionCapNano, startChaosCluster, type ChaosCluster } from './cluster.ts';
import { startDispatchChaos, type DispatchChaos } from './dispatch-chaos.ts';
import { chaosFaults, runFaultSchedule } from './faults.ts';
import { settleAndAudit } from './invariants.ts';
import { createChaosLoad, type ChaosLoad } from './load.ts';
import { CHAOS_MODELS, startModelFaults, type ModelFaults } from './model-faults.ts';
import { chaosProviderScript, STREAMING_TAG } from './provider-script.ts';
import { seeded } from './random.ts';
import { buildChaosReport, type ChaosReport } from './report.ts';
import { CHAOS_TENANTS, chaosApiKeys } from './tenants.ts';

export { formatChaosReport, type ChaosReport } from './report.ts';

export interface ChaosOptions {
  durationMs: number;
  /** Mean pause between two faults. */
  faultEveryMs: number;
  ratePerSecond: number;
  subscribers: number;
  /** Share of new tasks whose answer streams slowly, with their output followed live. */
  streamShare: number;
  /** Output subscribers per streaming task (the first from the start, the others join later). */
  followersPerStream: number;
  /** Where each process writes its log (`<dir>/<name>.log`); by default a new directory under test-artifacts/chaos. */
  logDir?: string;
  /** How long the system may take to settle after the faults stop. */
  settleTimeoutMs: number;
  /** Mean pause between two tenant policy changes (weight, cap, pause). */
  policyEveryMs: number;
  /** How long a paused tenant stays paused: from the first to the second. */
  pauseMs: readonly [number, number];
  /** How often live leases are sampled for the cap and starvation audits. */
  leaseSampleMs: number;
  /** PRIORITY_OFFSET_MS of the cluster: short, so a LOW task's wait stays bounded within the run. */
  priorityOffsetMs: number;
  /** Mean pause between two per-model faults at the fake (a model down, a 429 burst, cut streams). */
  modelFaultEveryMs: number;
  seed: number;
  log(line: string): void;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  durationMs: 5 * 60_000,
  faultEveryMs: 4000,
  ratePerSecond: 15,
  subscribers: 200,
  streamShare: 0.2,
  followersPerStream: 2,
  settleTimeoutMs: 120_000,
  policyEveryMs: 2500,
  pauseMs: [1000, 4000],
  leaseSampleMs: 150,
  priorityOffsetMs: 5000,
  modelFaultEveryMs: 3000,
  seed: 1,
  log: (line) => console.log(line),
};

const MAX_RETRIES = 3;
const SAMPLE =
  'Redis is an in-memory data store used as a database, cache and message broker. ' +
  'Job queues are often built on Redis lists because pushing and popping is atomic. The weather was nice.';

/** Runs the faults under load, then the audit; resolves with the report (`ok` false when an invariant broke). */
export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options = { ...DEFAULT_CHAOS_OPTIONS, ...overrides };
  const random = seeded(options.seed);
  const { log } = options;
  const startedAt = Date.now();
  let cluster: ChaosCluster | null = null;
  let load: ChaosLoad | null = null;
  let dispatch: DispatchChaos | null = null;
  let modelFaults: ModelFaults | null = null;

  try {
    const logDir = options.logDir ?? defaultLogDir(startedAt, options.seed);
    const started = await startChaosCluster({
      maxRetries: MAX_RETRIES,
      providerScript: chaosProviderScript(random),
      logDir,
      apiKeys: chaosApiKeys(),
      priorityOffsetMs: options.priorityOffsetMs,
    });
    cluster = started;
    log(`chaos: redis ${cluster.redis.url}, servers ${cluster.serverUrls.join(' ')}, 3 workers; ${options.durationMs / 1000} s of faults; logs in ${logDir}`);
    load = createChaosLoad({
      servers: cluster.serverUrls,
      ratePerSecond: options.ratePerSecond,
      tenants: CHAOS_TENANTS,
      subscribers: options.subscribers,
      cancelShare: 0.02,
      resendShare: 0.03,
      streamShare: options.streamShare,
      followersPerStream: options.followersPerStream,
      content: (marker, streaming) => `${SAMPLE} [${marker}]${streaming ? ` ${STREAMING_TAG}` : ''}`,
      random,
    });
    load.start();
    dispatch = startDispatchChaos({ ...options, redis: started.redis.client, keys: createRedisKeys(), servers: cluster.serverUrls, tenants: CHAOS_TENANTS.map(({ name }) => name) });
    // A stream of its own, so the other faults and the load stay as they were for a seed.
    modelFaults = startModelFaults({ fake: started.fake, models: CHAOS_MODELS, everyMs: options.modelFaultEveryMs, random: seeded(options.seed ^ 0x22) });
    const faults = await runFaultSchedule(chaosFaults(cluster, random), { ...options, random });
    const faultsDuring = ({ from, to }: { from: number; to: number }) =>
      faults.timeline.filter(({ at }) => at >= from - 5000 && at <= to + 1000).map(({ at, name }) => `    ${new Date(at).toISOString().slice(11, 23)} ${name}`);

    // Quiescence: every process back and running, submissions settled, then the system drains.
    log('chaos: faults stopped; resuming every tenant, lifting caps, clearing model faults, waiting for quiescence');
    await modelFaults.stop();
    await dispatch.liftPolicies();
    await cluster.restore();
    await load.stopSubmitting();
    const audited = await settleAndAudit(
      {
        redis: started.redis.client,
        keys: createRedisKeys(),
        load,
        providerRequests: started.fake.requests,
        providerBill: () => started.fake.bill(),
        completionCapNano: chaosCompletionCapNano,
        log,
        dump: (taskId, details, lived) =>
          log([details, '  faults from 5 s before to 1 s after:', ...faultsDuring(lived), '  log lines:', ...started.logLinesWith(taskId)].join('\n')),
      },
      options.settleTimeoutMs,
    );
    const dispatched = await dispatch.audit(audited.ids);
    const report = buildChaosReport({
      startedAt,
      load,
      faults: faults.counts,
      ids: audited.ids,
      states: audited.states,
      problems: { ...audited.problems, ...dispatched.problems },
      usage: audited.usage,
      dispatch: dispatched.stats,
      models: { chain: CHAOS_MODELS, faults: modelFaults.counts() },
    });
    if (!report.ok) for (const tail of cluster.workerTails(15)) log(tail);
    return report;
  } finally {
    await modelFaults?.stop();
    await dispatch?.close();
    await load?.close();
    await cluster?.close();
  }
}

/** test-artifacts/chaos/<start time>-seed-<seed> (test-artifacts is not committed). */
function defaultLogDir(startedAt: number, seed: number): string {
  return join(import.meta.dirname, '..', 'test-artifacts', 'chaos', `${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}-seed-${seed}`);
}
