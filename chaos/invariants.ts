/**
 * The audit at the end of a chaos run: waits until the system settled (every task finished,
 * every subscriber done) or the time is up, then checks every accepted task. The engine's
 * invariants come from `test/support/audit.ts`; what only the run can see is checked here:
 * each subscriber saw its task's terminal state (I8), each idempotency key names the same
 * task in the ledger and in Redis (I9), each output subscriber's text is its task's result
 * (chaos/output-audit.ts), and the usage ledger holds each billed call once (chaos/usage-audit.ts).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../schema/src/redis-keys.ts';
import { TERMINAL_STATES, type TaskState } from '../schema/src/task.ts';
import { audit } from '../test/support/audit.ts';
import type { FakeBill, RecordedRequest } from '../tools/fake-openrouter.ts';
import type { ChaosLoad, Watch } from './load.ts';
import { checkOutputs, type OutputDump } from './output-audit.ts';
import { describeStuck } from './stuck-dump.ts';
import { sleep } from './random.ts';
import { auditUsage, type UsageAudit } from './usage-audit.ts';

/** Every list must be empty for the run to pass. */
export interface ChaosProblems {
  missing: string[];
  duplicateTerminal: string[];
  stuck: string[];
  versions: string[];
  orphans: string[];
  overBudget: string[];
  dlqMismatch: string[];
  indexes: string[];
  missedTerminal: string[];
  idempotency: string[];
  /** Output subscribers whose text is not the result, who saw a cursor twice, or never finished. */
  output: string[];
  /** Billed calls the usage ledger lacks. */
  usageLacking: string[];
  /** Billed calls the usage ledger counts twice. */
  usageTwice: string[];
  /** Exact entries the provider never billed, or whose sum is not their bill's. */
  usageExact: string[];
  /** Estimated entries further from their calls' bill than the bound. */
  usageEstimated: string[];
  /** Entries that name another model than the one the provider answered their call with, and models whose total is not their bill's. */
  usageModels: string[];
}

export interface FinalState {
  state: TaskState;
  version: number;
}

export interface AuditContext {
  redis: Redis;
  keys: RedisKeys;
  load: ChaosLoad;
  /** Every chat-completions request the fake provider saw. */
  providerRequests: readonly RecordedRequest[];
  /** What the fake provider billed. */
  providerBill: () => FakeBill;
  /** What the workers' completion cap (MAX_COMPLETION_TOKENS) costs at a model's price, in nano-dollars: the estimates' bound per call. */
  completionCapNano: (model: string) => number;
  /** Called with the details of each task whose output broke the invariant. */
  dump: OutputDump;
  log(line: string): void;
}

/**
 * Audits until nothing is broken and no watch or output follower is pending, or until
 * `settleTimeoutMs`; then checks I8, I9 and the output. Resolves with the accepted ids, their
 * final states and every problem.
 */
export async function settleAndAudit(context: AuditContext, settleTimeoutMs: number) {
  const { redis, keys, load } = context;
  const ids = [...load.ledger.accepted.values()];
  // Each task must be its submitter's: the tenant of the key it was accepted under.
  const tenant = new Map([...load.ledger.accepted].map(([key, id]) => [id, load.ledger.tenantOf.get(key)!]));
  const check = () => audit(redis, keys, ids, { providerCalls: providerCallsByTask(context.providerRequests, load.ledger.accepted), tenant });
  const settleBy = Date.now() + settleTimeoutMs;
  let problems = await check();
  const pending = () => load.pendingWatches().length + load.pendingOutputs().length;
  // Usage settles last: a call whose worker died is reconciled by a sweeper after its deadline.
  let usage = await checkUsage(context);
  const usageProblems = () => [...usage.lacking, ...usage.twice, ...usage.exact, ...usage.estimatedOverBound, ...usage.models];
  while ((problems.length > 0 || pending() > 0 || usageProblems().length > 0) && Date.now() < settleBy) {
    await sleep(1000);
    problems = await check();
    usage = await checkUsage(context);
  }

  const states = await finalStates(redis, keys, ids);
  const stuck = ids.filter((id) => states.has(id) && !TERMINAL_STATES.has(states.get(id)!.state));
  if (stuck.length > 0) context.log((await describeStuck(redis, keys, stuck.slice(0, 20))).join('\n'));
  const byPrefix = (...prefixes: string[]) => problems.filter((p) => prefixes.some((prefix) => p.startsWith(prefix)));
  const found: ChaosProblems = {
    missing: byPrefix('I1'),
    duplicateTerminal: byPrefix('I4'),
    stuck: byPrefix('I2'),
    versions: byPrefix('I3'),
    orphans: byPrefix('I6'),
    overBudget: byPrefix('I5'),
    dlqMismatch: byPrefix('I7'),
    indexes: byPrefix('index', 'retention'),
    missedTerminal: checkWatches(ids, load.watches, states),
    idempotency: await checkIdempotency(context),
    output: await checkOutputs(redis, keys, load.outputs, context.dump),
    usageLacking: usage.lacking,
    usageTwice: usage.twice,
    usageExact: usage.exact,
    usageEstimated: usage.estimatedOverBound,
    usageModels: usage.models,
  };
  return { ids, states, problems: found, usage };
}

/** The usage ledger against the provider's own bill (chaos/usage-audit.ts). */
async function checkUsage({ redis, keys, providerBill, providerRequests, completionCapNano }: AuditContext): Promise<UsageAudit> {
  const entries = await redis.xrange(keys.usageLedger(), '-', '+');
  const fields = entries.map(([, values]) => Object.fromEntries(Array.from({ length: values.length / 2 }, (_, i) => [values[2 * i]!, values[2 * i + 1]!])));
  return auditUsage({ entries: fields, bill: providerBill(), requests: providerRequests, completionCapNano });
}

/** Provider calls per task id, attributed by the `[chaos-n]` marker the load puts in each text. */
export function providerCallsByTask(requests: readonly RecordedRequest[], idOfKey: ReadonlyMap<string, string>): Map<string, number> {
  const calls = new Map<string, number>();
  for (const request of requests) {
    const key = /\[(chaos-\d+)\]/.exec(JSON.stringify(request.body))?.[1];
    const id = key ? idOfKey.get(key) : undefined;
    if (id) calls.set(id, (calls.get(id) ?? 0) + 1);
  }
  return calls;
}

async function finalStates(redis: Redis, keys: RedisKeys, ids: readonly string[]): Promise<Map<string, FinalState>> {
  const states = new Map<string, FinalState>();
  for (const id of ids) {
    const [state, version] = await redis.hmget(keys.task(id), 'state', 'version');
    if (state) states.set(id, { state: state as TaskState, version: Number(version) });
  }
  return states;
}

/** I8: each watch saw its task's final version, in a terminal state, exactly once and in order. */
function checkWatches(ids: readonly string[], watches: ReadonlyMap<string, Watch>, states: ReadonlyMap<string, FinalState>): string[] {
  const missed: string[] = [];
  for (const id of ids) {
    const watch = watches.get(id);
    const final = states.get(id);
    if (!watch || !final) continue;
    const terminalSeen = [...watch.seen].filter(([, state]) => TERMINAL_STATES.has(state as TaskState));
    if (watch.seen.get(final.version) !== final.state || terminalSeen.length !== 1) {
      missed.push(
        `I8: subscriber ${watch.subscriber} saw ${id} as ${[...watch.seen].map(([v, s]) => `${v}:${s}`).join(',') || 'nothing'}; final ${final.version}:${final.state}`,
      );
    } else if (watch.outOfOrder > 0) missed.push(`I8: subscriber ${watch.subscriber} got ${id}'s versions out of order`);
  }
  return missed;
}

/** I9: every key names its accepted task in Redis too, under its submitter's tenant (and no resend named another). */
async function checkIdempotency({ redis, keys, load }: AuditContext): Promise<string[]> {
  const problems = [...load.ledger.idempotencyProblems];
  for (const [key, id] of load.ledger.accepted) {
    const stored = await redis.get(keys.idempotency(load.ledger.tenantOf.get(key)!, key));
    if (!stored?.startsWith(`${id}:`)) problems.push(`I9: key ${key} accepted as ${id}, stored as ${stored ?? 'nothing'}`);
  }
  return problems;
}
