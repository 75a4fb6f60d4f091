/**
 * Where a task's Redis commands go, call by call: Redis' MONITOR feed of a window, each command
 * put under the script call that ran it (MONITOR shows an EVALSHA, then its inner commands as
 * `lua`), the scripts named by the SHA-1 of their text. Counts, not time: MONITOR slows Redis,
 * so this is run at a light load and read as a ledger of commands, never as a speed.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { TASK_SCRIPTS } from '../../schema/src/scripts/index.ts';

/** One kind of call: a named task script, another script, or the plain commands sent outside scripts. */
export interface CallCost {
  name: string;
  calls: number;
  /** Keys sent per call (scripts only). */
  keysPerCall: number;
  /** Inner commands (scripts) or the commands themselves (plain), by command. */
  commands: Map<string, number>;
}

export interface CommandTrace {
  /** Tasks created in the window (taskCreate calls): what every count is divided by. */
  tasks: number;
  calls: CallCost[];
}

const SCRIPT_NAMES = new Map(Object.entries(TASK_SCRIPTS).map(([name, script]) => [createHash('sha1').update(script.lua).digest('hex'), name]));

/** Records what `redisUrl` runs while `during` does: MONITOR from before it starts until after it ends. */
export async function traceCommands(redisUrl: string, during: () => Promise<void>): Promise<CommandTrace> {
  const connection = new Redis(redisUrl, { lazyConnect: true });
  await connection.connect();
  const monitor = await connection.monitor();
  const byName = new Map<string, CallCost>();
  const costOf = (name: string) => {
    let cost = byName.get(name);
    if (!cost) byName.set(name, (cost = { name, calls: 0, keysPerCall: 0, commands: new Map() }));
    return cost;
  };
  const plain = costOf('plain commands');
  let current: CallCost = plain;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const command = args[0]!.toUpperCase();
    if (source === 'lua') {
      current.commands.set(command, (current.commands.get(command) ?? 0) + 1);
      return;
    }
    if (command === 'EVALSHA' || command === 'EVAL') {
      // ioredis sends a script's first call as EVAL, with its text (which MONITOR escapes).
      const sha = command === 'EVAL' ? createHash('sha1').update(unescapeMonitor(args[1]!), 'latin1').digest('hex') : args[1]!;
      current = costOf(SCRIPT_NAMES.get(sha) ?? `script ${sha.slice(0, 8)}`);
      current.keysPerCall += Number(args[2]);
      current.calls += 1;
      return;
    }
    current = plain;
    plain.commands.set(command, (plain.commands.get(command) ?? 0) + 1);
  });
  try {
    await during();
    // The last replies' commands are already fed; give the feed a moment to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    monitor.disconnect();
    connection.disconnect();
  }
  const calls = [...byName.values()].filter((cost) => cost.calls > 0 || cost.commands.size > 0);
  for (const cost of calls) cost.keysPerCall = cost.calls > 0 ? cost.keysPerCall / cost.calls : 0;
  return { tasks: byName.get('taskCreate')?.calls ?? 0, calls };
}

/**
 * A MONITOR argument as it was sent: Redis escapes it (sdscatrepr: \n, \", \\, \xHH for other
 * bytes) and ioredis' parser leaves the escapes. Returns the bytes as a latin1 string.
 */
function unescapeMonitor(text: string): string {
  const named: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };
  return text.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, code: string) => (code.length === 3 ? String.fromCharCode(parseInt(code.slice(1), 16)) : (named[code] ?? code)));
}

const sum = (counts: Map<string, number>) => [...counts.values()].reduce((total, n) => total + n, 0);

/** Commands per task of one kind of call: the calls themselves (one EVALSHA each) and what they ran. */
export const commandsPerTask = (cost: CallCost, tasks: number) => (cost.calls + sum(cost.commands)) / Math.max(1, tasks);

/** Commands per task, every kind of call together. */
export const totalCommandsPerTask = (trace: CommandTrace) => trace.calls.reduce((all, cost) => all + commandsPerTask(cost, trace.tasks), 0);

/** The trace as lines: per kind of call, calls and commands per task, keys per call, and the commands by name. */
export function describeTrace(trace: CommandTrace): string[] {
  const per = (n: number) => (n / Math.max(1, trace.tasks)).toFixed(2);
  const lines = [`${trace.tasks} tasks; ${totalCommandsPerTask(trace).toFixed(1)} commands per task`];
  for (const cost of [...trace.calls].sort((a, b) => commandsPerTask(b, trace.tasks) - commandsPerTask(a, trace.tasks))) {
    const commands = [...cost.commands].sort((a, b) => b[1] - a[1]).filter(([, n]) => n / Math.max(1, trace.tasks) >= 0.005);
    const head = cost.calls > 0 ? `${cost.name}: ${per(cost.calls)} calls, ${cost.keysPerCall.toFixed(0)} keys a call` : `${cost.name}:`;
    lines.push(`  ${head}; ${commandsPerTask(cost, trace.tasks).toFixed(2)} commands a task: ${commands.map(([name, n]) => `${name} ${per(n)}`).join(', ')}`);
  }
  return lines;
}
