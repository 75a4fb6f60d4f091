/** The chaos report: what ran, what was accepted and how it ended, and every broken invariant. */
import type { DispatchProblems, DispatchStats } from './dispatch-audit.ts';
import type { ChaosProblems, FinalState } from './invariants.ts';
import type { ChaosLoad } from './load.ts';
import { formatDispatchLines, DISPATCH_LABELS } from './report-dispatch.ts';
import { formatModelFaults, type ModelFaultKind } from './model-faults.ts';
import { formatUsageAudit, type UsageAudit } from './usage-audit.ts';

export interface ChaosReport {
  seconds: number;
  accepted: number;
  completed: number;
  dlq: number;
  cancelled: number;
  submitAttempts: number;
  submitFailures: number;
  resubscribes: number;
  reconnects: number;
  faults: Record<string, number>;
  /** Streaming tasks and the subscribers that followed their output. */
  output: OutputStats;
  /** Tenants, policy changes, caps and waits. */
  dispatch: DispatchStats;
  /** Every list here must be empty. */
  problems: ChaosProblems & DispatchProblems;
  /** The usage ledger against the bill: exact and estimated figures, and by model. */
  usage: UsageAudit;
  /** The model chain the workers ran, and the per-model faults set at the fake. */
  models: ModelStats;
  ok: boolean;
}

export interface OutputStats {
  /** Accepted streaming tasks, and how many of them completed. */
  tasks: number;
  completed: number;
  /** Output subscribers, and how many joined a while after the task was accepted. */
  subscribers: number;
  late: number;
  /** Chunks received by all of them. */
  chunks: number;
  /** Resets received after other text: a subscriber watched a new attempt start over. */
  restarts: number;
  /** Subscriptions sent again with `after` (a reconnect, or a feed that ended early). */
  resumes: number;
}

export interface ModelStats {
  chain: readonly string[];
  faults: Record<ModelFaultKind, number>;
}

export interface ReportInput {
  startedAt: number;
  ids: readonly string[];
  states: ReadonlyMap<string, FinalState>;
  load: ChaosLoad;
  faults: Record<string, number>;
  problems: ChaosProblems & DispatchProblems;
  dispatch: DispatchStats;
  usage: UsageAudit;
  models: ModelStats;
}

/** The report of a finished run; `ok` when no list of problems holds anything and tasks were accepted. */
export function buildChaosReport({ startedAt, ids, states, load, faults, problems, dispatch, usage, models }: ReportInput): ChaosReport {
  const inState = (state: string) => ids.filter((id) => states.get(id)?.state === state).length;
  const ok = Object.values(problems).every((list) => list.length === 0) && ids.length > 0;
  return {
    seconds: Math.round((Date.now() - startedAt) / 1000),
    accepted: ids.length,
    completed: inState('COMPLETED'),
    dlq: inState('DLQ'),
    cancelled: inState('CANCELLED'),
    submitAttempts: load.ledger.submitAttempts,
    submitFailures: load.ledger.submitFailures,
    resubscribes: [...load.watches.values()].reduce((sum, w) => sum + w.resubscribes, 0),
    reconnects: load.ledger.reconnects,
    faults,
    output: outputStats(load, states),
    dispatch,
    problems,
    usage,
    models,
    ok,
  };
}

function outputStats(load: ChaosLoad, states: ReadonlyMap<string, FinalState>): OutputStats {
  const streaming = [...load.ledger.streaming].flatMap((key) => load.ledger.accepted.get(key) ?? []);
  const follows = load.outputs;
  return {
    tasks: streaming.length,
    completed: streaming.filter((id) => states.get(id)?.state === 'COMPLETED').length,
    subscribers: follows.length,
    late: follows.filter((follow) => follow.late).length,
    chunks: follows.reduce((sum, follow) => sum + follow.chunks.length, 0),
    restarts: follows.reduce((sum, follow) => sum + follow.chunks.filter((chunk, i) => chunk.reset && i > 0).length, 0),
    resumes: follows.reduce((sum, follow) => sum + follow.resumes, 0),
  };
}

const LABELS: Record<keyof ChaosProblems, string> = {
  missing: 'I1 missing',
  stuck: 'I2 stuck',
  versions: 'I3 versions',
  duplicateTerminal: 'I4 duplicate terminal',
  overBudget: 'I5 over-budget provider calls',
  orphans: 'I6 orphans',
  dlqMismatch: 'I7 DLQ mismatch',
  indexes: 'indexes',
  missedTerminal: 'I8 subscribers that missed a terminal state',
  idempotency: 'I9 idempotency',
  output: 'output: subscribers whose text is not the result, or who saw a cursor twice',
  usageLacking: 'usage: billed calls the ledger lacks',
  usageTwice: 'usage: billed calls the ledger counts twice',
  usageExact: 'usage: exact entries the provider never billed, or whose sum differs from their bill',
  usageEstimated: 'usage: estimated entries further from their bill than the bound',
  usageModels: 'usage: calls recorded under another model than the one that answered, or a model whose total differs from its bill',
};

/** The report as the lines `npm run chaos` prints (at most 20 problems per invariant). */
export function formatChaosReport(report: ChaosReport): string {
  const { output } = report;
  const lines = [
    `chaos: ${report.seconds} s, faults: ${Object.entries(report.faults).map(([name, n]) => `${name} x${n}`).join(', ') || 'none'}`,
    `accepted ${report.accepted}  completed ${report.completed}  dlq ${report.dlq}  cancelled ${report.cancelled}` +
      `  (submit attempts ${report.submitAttempts}, given up ${report.submitFailures}, subscriber reconnects ${report.reconnects}, re-subscriptions ${report.resubscribes})`,
    `streaming ${output.tasks} (completed ${output.completed})  output subscribers ${output.subscribers} (${output.late} joined late)  chunks ${output.chunks}` +
      `  (resets after text ${output.restarts}, resumed with after ${output.resumes})`,
    formatModelFaults(report.models.chain, report.models.faults),
    ...formatDispatchLines(report.dispatch),
  ];
  for (const [name, label] of [...Object.entries(LABELS), ...Object.entries(DISPATCH_LABELS)] as [keyof ChaosReport['problems'], string][]) {
    const list = report.problems[name];
    lines.push(`  ${label}: ${list.length}${list.length ? `\n    ${list.slice(0, 20).join('\n    ')}` : ''}`);
  }
  lines.push(...formatUsageAudit(report.usage));
  lines.push(report.ok ? 'chaos: every invariant held' : 'chaos: INVARIANTS BROKEN');
  return lines.join('\n');
}
