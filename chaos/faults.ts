/**
 * The fault schedule of a chaos run: every few seconds (at random, seeded) one fault chosen by
 * weight, on the cluster's processes; a killed process is started again. Never both API
 * servers at once: subscribers always have somewhere to reconnect.
 */
import type { ChaosCluster } from './cluster.ts';
import { sleep } from './random.ts';

export interface Fault {
  name: string;
  /** Relative frequency. */
  weight: number;
  run(): Promise<void>;
}

/** The faults of docs/chaos.md, on `cluster`. */
export function chaosFaults(cluster: ChaosCluster, random: () => number): Fault[] {
  const { redis, servers } = cluster;
  const pickOf = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  let fsyncAlways = false;
  const restartRedis = async (kill: boolean, extraArgs: string[] = []) => {
    await redis.stop({ kill });
    await sleep(200 + random() * 800);
    await redis.start(extraArgs);
  };
  return [
    {
      name: 'worker SIGKILL',
      weight: 3,
      async run() {
        const target = pickOf(cluster.liveWorkers());
        if (!target) return;
        target.w.signal('SIGKILL');
        await target.w.exited;
        await sleep(random() * 1000);
        await cluster.startWorkerAt(target.i);
      },
    },
    {
      name: 'worker SIGSTOP/SIGCONT',
      weight: 3,
      async run() {
        const target = pickOf(cluster.liveWorkers());
        if (!target) return;
        const w = target.w;
        cluster.paused.add(w);
        w.signal('SIGSTOP');
        // Sometimes shorter, sometimes longer than the lease (2 s).
        setTimeout(() => {
          w.signal('SIGCONT');
          cluster.paused.delete(w);
        }, 500 + random() * 4000);
      },
    },
    {
      name: 'worker SIGTERM',
      weight: 1,
      async run() {
        const target = pickOf(cluster.liveWorkers());
        if (!target) return;
        target.w.signal('SIGTERM');
        await target.w.exited;
        await cluster.startWorkerAt(target.i);
      },
    },
    {
      name: 'server SIGTERM',
      weight: 2,
      async run() {
        const index = Math.floor(random() * 2);
        if (!servers[1 - index]?.alive()) return;
        servers[index]!.signal('SIGTERM');
        await servers[index]!.exited;
        await cluster.startServerAt(index);
      },
    },
    {
      name: 'server SIGKILL',
      weight: 2,
      async run() {
        const index = Math.floor(random() * 2);
        if (!servers[1 - index]?.alive()) return;
        servers[index]!.signal('SIGKILL');
        await servers[index]!.exited;
        await sleep(random() * 1500);
        await cluster.startServerAt(index);
      },
    },
    { name: 'redis SIGTERM restart', weight: 1, run: () => restartRedis(false) },
    {
      name: 'redis SCRIPT FLUSH',
      weight: 2,
      async run() {
        await redis.client.script('FLUSH').catch(() => undefined);
      },
    },
    {
      // With appendfsync always, even a SIGKILL loses nothing Redis acknowledged.
      name: 'redis SIGKILL restart (appendfsync always)',
      weight: 1,
      async run() {
        if (!fsyncAlways) {
          await redis.client.config('SET', 'appendfsync', 'always');
          fsyncAlways = true;
          await restartRedis(true, ['--appendfsync', 'always']);
        } else await restartRedis(true);
      },
    },
  ];
}

export interface ScheduleOptions {
  durationMs: number;
  /** Mean pause between two faults (each pause is 0.5-1.5 times it). */
  faultEveryMs: number;
  random(): number;
  log(line: string): void;
}

export interface FaultLog {
  /** How often each fault ran. */
  counts: Record<string, number>;
  /** When each one started (epoch ms), in order. */
  timeline: { at: number; name: string }[];
}

/**
 * Runs one fault at a time, chosen by weight, until `durationMs` has passed; resolves with
 * what ran when. A fault that throws is logged and the schedule goes on.
 */
export async function runFaultSchedule(faults: readonly Fault[], options: ScheduleOptions): Promise<FaultLog> {
  const { random, log } = options;
  const counts: Record<string, number> = {};
  const timeline: FaultLog['timeline'] = [];
  const from = Date.now();
  const totalWeight = faults.reduce((sum, fault) => sum + fault.weight, 0);
  const choose = () => {
    let roll = random() * totalWeight;
    for (const fault of faults) {
      roll -= fault.weight;
      if (roll < 0) return fault;
    }
    return faults[0]!;
  };

  const deadline = from + options.durationMs;
  while (Date.now() < deadline) {
    await sleep(options.faultEveryMs * (0.5 + random()));
    if (Date.now() >= deadline) break;
    const fault = choose();
    counts[fault.name] = (counts[fault.name] ?? 0) + 1;
    timeline.push({ at: Date.now(), name: fault.name });
    log(`chaos: t=${((Date.now() - from) / 1000).toFixed(1)}s ${fault.name}`);
    try {
      await fault.run();
    } catch (error) {
      log(`chaos: ${fault.name} failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { counts, timeline };
}
