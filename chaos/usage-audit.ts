/**
 * The usage ledger against the fake provider's bill, at the end of a chaos run. A billed
 * generation is matched to ledger entries by its generation id, or, for an entry its worker
 * recorded without one (an estimate), by our own call id, which the fake saw in the request's
 * `x-atf-call-id` header. Four findings:
 * - calls the ledger lacks: billed generations no entry names (must be 0);
 * - calls it counts twice: billed generations two entries name, or one call id twice (must be 0);
 * - exact entries (not estimated): their sum equals their generations' bill to the nano-dollar;
 * - estimated entries: their sum against what the provider billed for those calls (nothing, for a
 *   call cut off before the provider started it), within a bound: an estimate prices the prompt,
 *   and the call may have been billed anything from nothing to the prompt plus the completion cap;
 * - models (issue 22): every entry matched to a billed generation names the model the provider
 *   answered that call with (the bill's model), and the exact entries' total by the model they
 *   name equals the bill by model (each model has its own price in the run, so a call priced at
 *   another model's price shows). An estimate of a call the provider never billed has no answer
 *   to compare with: it is counted, not checked.
 * Pure: tested in test/chaos.test.ts.
 */
import type { FakeBill, RecordedRequest } from '../tools/fake-openrouter.ts';

/** One ledger entry's fields (`RedisKeys.usageLedger`). */
export type LedgerEntry = Record<string, string>;

export interface UsageAudit {
  /** Generations the provider billed. */
  billed: number;
  lacking: string[];
  twice: string[];
  /** Entries the provider never billed under their generation id, and exact sums that differ from the bill. */
  exact: string[];
  /** Set when the estimated entries differ from the bill by more than the bound. */
  estimatedOverBound: string[];
  exactEntries: number;
  exactLedgerNano: number;
  exactBilledNano: number;
  estimatedEntries: number;
  /** Estimated entries whose call the provider never billed (cut off before it started). */
  estimatedUnbilled: number;
  estimatedLedgerNano: number;
  estimatedBilledNano: number;
  estimatedBoundNano: number;
  /** Entries naming another model than the one that answered their call, and models whose exact total is not their bill's. */
  models: string[];
  /** Entries whose model was compared with the model that answered (every one matched to a billed generation). */
  modelChecked: number;
  /** Per model (as the bill names it, and as exact entries name it): exact calls, their ledger total and their bill. */
  byModel: Record<string, { calls: number; ledgerNano: number; billedNano: number }>;
}

export interface UsageAuditInput {
  entries: readonly LedgerEntry[];
  bill: FakeBill;
  requests: readonly RecordedRequest[];
  /** What the completion cap (MAX_COMPLETION_TOKENS) costs, in nano-dollars: one figure, or by model (at its price). */
  completionCapNano: number | ((model: string) => number);
}

/** The ledger against the bill (see the file's comment). */
export function auditUsage({ entries, bill, requests, completionCapNano }: UsageAuditInput): UsageAudit {
  const callIdOf = new Map<string, string>();
  // The model each call asked for first (its body's `model`; the rest of its chain rides in `models`).
  const askedFirst = new Map<string, string>();
  for (const request of requests) {
    const callId = request.headers['x-atf-call-id'];
    if (request.generationId && typeof callId === 'string') callIdOf.set(request.generationId, callId);
    const asked = (request.body as { model?: unknown } | null)?.model;
    if (request.generationId && typeof asked === 'string') askedFirst.set(request.generationId, asked);
  }
  const byGeneration = groupBy(entries, (entry) => entry.generationId);
  const byCall = groupBy(entries, (entry) => entry.callId);
  const matchedTo = new Map<LedgerEntry, string>();
  const audit: UsageAudit = {
    billed: bill.generations.length,
    lacking: [],
    twice: [],
    exact: [],
    estimatedOverBound: [],
    exactEntries: 0,
    exactLedgerNano: 0,
    exactBilledNano: 0,
    estimatedEntries: 0,
    estimatedUnbilled: 0,
    estimatedLedgerNano: 0,
    estimatedBilledNano: 0,
    estimatedBoundNano: 0,
    models: [],
    modelChecked: 0,
    byModel: {},
  };
  const modelTotals = (model: string) => (audit.byModel[model] ??= { calls: 0, ledgerNano: 0, billedNano: 0 });
  const billedNano = new Map<string, number>();
  const billedModel = new Map<string, string>();
  const capOf = (model: string | undefined) => (typeof completionCapNano === 'number' ? completionCapNano : completionCapNano(model ?? ''));
  for (const generation of bill.generations) {
    billedNano.set(generation.generationId, generation.costNanoUsd);
    billedModel.set(generation.generationId, generation.model);
    const callId = callIdOf.get(generation.generationId);
    const matches = new Set([...(byGeneration.get(generation.generationId) ?? []), ...(callId ? (byCall.get(callId) ?? []) : [])]);
    const named = `generation ${generation.generationId}${callId ? ` (call ${callId})` : ''}, ${generation.costNanoUsd} n$`;
    if (matches.size === 0) audit.lacking.push(`usage: ${named} is not in the ledger`);
    if (matches.size > 1) audit.twice.push(`usage: ${named} is in the ledger ${matches.size} times`);
    for (const entry of matches) matchedTo.set(entry, generation.generationId);
  }
  for (const [callId, named] of byCall) if (callId && named.length > 1) audit.twice.push(`usage: call ${callId} is in the ledger ${named.length} times`);
  for (const entry of entries) {
    const cost = Number(entry.costNano);
    const generationId = matchedTo.get(entry);
    if (entry.generationId && !billedNano.has(entry.generationId)) audit.exact.push(`usage: the ledger has ${entry.generationId}, which the provider never billed`);
    const answeredBy = generationId === undefined ? undefined : billedModel.get(generationId);
    // An estimate recorded without a generation id of its own is a call whose answer never
    // reached the worker, so nothing told it which model answered: it names the model the call
    // asked for first, which is right too.
    const unanswered = entry.estimated === '1' && !entry.generationId && generationId !== undefined && entry.model === askedFirst.get(generationId);
    if (answeredBy !== undefined) {
      audit.modelChecked += 1;
      if (entry.model !== answeredBy && !unanswered) {
        const estimate = entry.estimated === '1' ? ' (estimated)' : '';
        audit.models.push(`usage: call ${entry.callId || '?'} (generation ${generationId})${estimate} is recorded as ${entry.model ?? 'no model'}; ${answeredBy} answered it`);
      }
    }
    if (entry.estimated === '1') {
      audit.estimatedEntries += 1;
      audit.estimatedLedgerNano += cost;
      // Priced at the dearer of the model it names and the one that answered (a worker cut off early may not know which did).
      audit.estimatedBoundNano += Math.max(cost, capOf(entry.model), answeredBy === undefined ? 0 : capOf(answeredBy));
      if (generationId === undefined) audit.estimatedUnbilled += 1;
      else audit.estimatedBilledNano += billedNano.get(generationId)!;
    } else if (generationId !== undefined) {
      audit.exactEntries += 1;
      audit.exactLedgerNano += cost;
      audit.exactBilledNano += billedNano.get(generationId)!;
      // The ledger's side by the model the entry names, the bill's by the model that answered.
      const recorded = modelTotals(entry.model ?? '');
      recorded.calls += 1;
      recorded.ledgerNano += cost;
      modelTotals(answeredBy!).billedNano += billedNano.get(generationId)!;
    }
  }
  for (const [model, totals] of Object.entries(audit.byModel)) {
    if (totals.ledgerNano !== totals.billedNano) audit.models.push(`usage: model ${model || '(none)'}: the exact entries total ${totals.ledgerNano} n$, the bill ${totals.billedNano} n$`);
  }
  if (audit.exactLedgerNano !== audit.exactBilledNano) {
    audit.exact.push(`usage: the exact entries total ${audit.exactLedgerNano} n$, their calls' bill ${audit.exactBilledNano} n$`);
  }
  const difference = Math.abs(audit.estimatedLedgerNano - audit.estimatedBilledNano);
  if (difference > audit.estimatedBoundNano) {
    audit.estimatedOverBound.push(`usage: the estimated entries differ from their calls' bill by ${difference} n$, over the bound of ${audit.estimatedBoundNano} n$`);
  }
  return audit;
}

/** The audit's figures as the report prints them. */
export function formatUsageAudit(audit: UsageAudit): string[] {
  const usd = (nano: number) => `$${(nano / 1e9).toFixed(6)}`;
  return [
    `usage: ${audit.billed} billed calls; the ledger lacks ${audit.lacking.length}, counts ${audit.twice.length} twice`,
    `usage exact: ${audit.exactEntries} entries, ${usd(audit.exactLedgerNano)} recorded, ${usd(audit.exactBilledNano)} billed (must be equal)`,
    `usage estimated: ${audit.estimatedEntries} entries (${audit.estimatedUnbilled} for calls never billed), ${usd(audit.estimatedLedgerNano)} recorded, ` +
      `${usd(audit.estimatedBilledNano)} billed, difference ${usd(audit.estimatedLedgerNano - audit.estimatedBilledNano)} (bound ${usd(audit.estimatedBoundNano)})`,
    `usage models: ${audit.modelChecked} entries checked against the model that answered, ${audit.models.length} problems; ` +
      `by model (exact): ${
        Object.entries(audit.byModel)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([model, t]) => `${model || '(none)'} ${t.calls} calls ${usd(t.ledgerNano)} recorded ${usd(t.billedNano)} billed`)
          .join('; ') || 'none'
      }`,
  ];
}

function groupBy(entries: readonly LedgerEntry[], keyOf: (entry: LedgerEntry) => string | undefined): Map<string, LedgerEntry[]> {
  const groups = new Map<string, LedgerEntry[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    if (!key) continue;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return groups;
}
