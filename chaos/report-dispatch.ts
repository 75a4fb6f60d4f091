/** The chaos report's lines on tenants, policy changes, caps and waits (chaos/dispatch-audit.ts). */
import type { DispatchProblems, DispatchStats } from './dispatch-audit.ts';

export const DISPATCH_LABELS: Record<keyof DispatchProblems, string> = {
  caps: 'caps: samples with more live leases than the cap, an attempt started after it was set',
  starvation: 'starvation: tasks that waited past their bound',
};

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What the run did to the dispatcher and what the samples and histories found. */
export function formatDispatchLines(dispatch: DispatchStats): string[] {
  const { policies, starvation } = dispatch;
  const lines = [
    `tenants: ${dispatch.tenants.map(({ tenant, byPriority }) => `${tenant} ${Object.values(byPriority).reduce((a, b) => a + b, 0)} (HIGH ${byPriority.HIGH}, LOW ${byPriority.LOW})`).join(', ')}`,
    `policy changes: weight x${policies.weight}, cap x${policies.cap}, pause x${policies.pause} (resume x${policies.resume}), lifted at the end x${policies.lift}; live leases sampled ${dispatch.leaseSamples} times`,
    `caps (live leases while capped): ${
      dispatch.caps
        .filter((c) => c.cappedSamples > 0)
        .map((c) => `${c.tenant} at most ${c.maxLive} under ${c.capAtMax}, at its cap in ${c.atCap}/${c.cappedSamples} samples, over it from before a lowering in ${c.excused}`)
        .join('; ') || 'no tenant was capped'
    }`,
    `waits at the head of the tenant's line less pauses, full caps and cluster stalls (${starvation.stalls.count}, longest ${s(starvation.stalls.longestMs)}, ` +
      `${s(starvation.stalls.totalMs)} in all): bound ${s(starvation.boundMs)} (lease + sweep + ${starvation.turns} starts at ${starvation.startsPerSecond.toFixed(1)}/s; longer where starts came slower)`,
  ];
  for (const tenant of new Set(starvation.worst.map((worst) => worst.tenant))) {
    const worst = starvation.worst.filter((entry) => entry.tenant === tenant);
    lines.push(
      `  ${tenant}: ${worst.map((w) => `${w.priority} worst ${s(w.starvedMs)} of ${w.tasks} (waited ${s(w.waitMs)}, ${s(w.behindOwnMs)} behind its own)`).join('; ')}`,
    );
  }
  return lines;
}
