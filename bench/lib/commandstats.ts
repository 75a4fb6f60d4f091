/** Redis commands per task from INFO commandstats, scripts' inner commands included. */
import type { TestRedis } from '../../test/support/redis-server.ts';

export interface CommandTotals {
  calls: number;
  evalshaCalls: number;
  evalshaUsec: number;
  byName: Map<string, number>;
}

/** What a window cost Redis, per task it created. */
export interface CommandWindow {
  tasks: number;
  commandsPerTask: number;
  evalshaPerTask: number;
  /** Redis' own time inside scripts (EVALSHA usec), per task. */
  evalshaUsecPerTask: number;
  /** `name calls-per-task`, largest first. */
  byCommand: string;
}

/** Calls of every command so far (INFO commandstats; FLUSHALL does not reset them). */
export async function commandTotals(redis: TestRedis['client']): Promise<CommandTotals> {
  const info = await redis.info('commandstats');
  const totals: CommandTotals = { calls: 0, evalshaCalls: 0, evalshaUsec: 0, byName: new Map() };
  for (const [, name, count, usec] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    totals.calls += Number(count);
    totals.byName.set(name!, Number(count));
    if (name === 'evalsha') [totals.evalshaCalls, totals.evalshaUsec] = [Number(count), Number(usec)];
  }
  return totals;
}

/** Calls per task by command between two readings, largest first. */
function perCommand(before: CommandTotals, after: CommandTotals, tasks: number): string {
  return [...after.byName]
    .map(([name, calls]) => [name, (calls - (before.byName.get(name) ?? 0)) / tasks] as const)
    .filter(([, perTask]) => perTask >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perTask]) => `${name} ${perTask.toFixed(2)}`)
    .join(', ');
}

/** Between two readings, over `tasks` tasks (each of which ran to its end in between). */
export function commandWindow(before: CommandTotals, after: CommandTotals, tasks: number): CommandWindow {
  const n = Math.max(1, tasks);
  return {
    tasks,
    commandsPerTask: (after.calls - before.calls) / n,
    evalshaPerTask: (after.evalshaCalls - before.evalshaCalls) / n,
    evalshaUsecPerTask: (after.evalshaUsec - before.evalshaUsec) / n,
    byCommand: perCommand(before, after, n),
  };
}
