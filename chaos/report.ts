/** The chaos report: what ran, what was accepted and how it ended, and every broken invariant. */
import type { ChaosProblems, FinalState } from './invariants.ts';
import type { ChaosLoad } from './load.ts';

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
  /** Every list here must be empty. */
  problems: ChaosProblems;
  ok: boolean;
}

export interface ReportInput {
  startedAt: number;
  ids: readonly string[];
  states: ReadonlyMap<string, FinalState>;
  load: ChaosLoad;
  faults: Record<string, number>;
  problems: ChaosProblems;
}

/** The report of a finished run; `ok` when no list of problems holds anything and tasks were accepted. */
export function buildChaosReport({ startedAt, ids, states, load, faults, problems }: ReportInput): ChaosReport {
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
    problems,
    ok,
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
};

/** The report as the lines `npm run chaos` prints (at most 20 problems per invariant). */
export function formatChaosReport(report: ChaosReport): string {
  const lines = [
    `chaos: ${report.seconds} s, faults: ${Object.entries(report.faults).map(([name, n]) => `${name} x${n}`).join(', ') || 'none'}`,
    `accepted ${report.accepted}  completed ${report.completed}  dlq ${report.dlq}  cancelled ${report.cancelled}` +
      `  (submit attempts ${report.submitAttempts}, given up ${report.submitFailures}, subscriber reconnects ${report.reconnects}, re-subscriptions ${report.resubscribes})`,
  ];
  for (const [name, label] of Object.entries(LABELS) as [keyof ChaosProblems, string][]) {
    const list = report.problems[name];
    lines.push(`  ${label}: ${list.length}${list.length ? `\n    ${list.slice(0, 20).join('\n    ')}` : ''}`);
  }
  lines.push(report.ok ? 'chaos: every invariant held' : 'chaos: INVARIANTS BROKEN');
  return lines.join('\n');
}
