/**
 * A test tool for the documentation's screenshot: draws the spans a real run exported (as the
 * loopback OTLP receiver decoded them) as a trace viewer's waterfall, one row per span, indented
 * under its parent, a bar from its start to its end, with its service and a few attributes.
 * No Jaeger or Tempo runs here: docs/observability.md says the picture comes from this page.
 */
import type { SpanRecord } from './trace-tree.ts';

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const SHOWN = [
  'atf.dispatch.wait_reason',
  'atf.attempt.outcome',
  'error.type',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'atf.usage.cost_usd',
  'gen_ai.response.time_to_first_chunk',
  'http.response.status_code',
];

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The spans in tree order (parents first, siblings by start), each with its depth. */
function ordered(spans: readonly SpanRecord[]): { span: SpanRecord; depth: number }[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | null, SpanRecord[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: { span: SpanRecord; depth: number }[] = [];
  const visit = (parent: string | null, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      rows.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

function detail(span: SpanRecord): string {
  const parts = SHOWN.filter((key) => span.attributes[key] !== undefined).map((key) => {
    const value = span.attributes[key];
    return `${key.replace(/^(atf|gen_ai)\./, '')}=${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : String(value)}`;
  });
  if (span.events.some((event) => event.name === 'atf.first_chunk')) parts.push('◆ first chunk');
  for (const link of span.links) parts.push(`↗ ${String(link.attributes['atf.link.kind'] ?? 'link')}`);
  return parts.join(' · ');
}

/** The page for `spans` (one trace, or a task's linked traces), titled `title`. */
export function renderWaterfall(spans: readonly SpanRecord[], title: string): string {
  const start = Math.min(...spans.map((span) => span.startMs));
  const end = Math.max(...spans.map((span) => span.endMs));
  const total = Math.max(1, end - start);
  const rows = ordered(spans)
    .map(({ span, depth }) => {
      const left = ((span.startMs - start) / total) * 100;
      const width = Math.max(0.4, ((span.endMs - span.startMs) / total) * 100);
      const failed = span.status === 2 ? ' failed' : '';
      return `<tr>
  <td class="name" style="padding-left:${8 + depth * 18}px"><span class="svc ${escape(span.service)}">${escape(span.service)}</span> ${escape(span.name)} <span class="kind">${KINDS[span.kind] ?? ''}</span></td>
  <td class="lane"><div class="bar${failed}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div><span class="ms" style="left:${Math.min(left + width, 88).toFixed(2)}%">${(span.endMs - span.startMs).toFixed(1)} ms</span></td>
  <td class="detail">${escape(detail(span))}</td>
</tr>`;
    })
    .join('\n');
  const traces = [...new Set(spans.map((span) => span.traceId))];
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(title)}</title><style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #1f2933; }
h1 { font-size: 16px; margin: 0 0 4px; } p { margin: 0 0 12px; color: #52606d; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td { border-bottom: 1px solid #e4e7eb; padding: 5px 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.name { width: 34%; } td.lane { position: relative; width: 34%; } td.detail { width: 32%; color: #52606d; font-size: 12px; }
.bar { position: absolute; top: 7px; height: 12px; background: #3b82f6; border-radius: 2px; }
.bar.failed { background: #e3342f; }
.ms { position: absolute; top: 5px; margin-left: 4px; font-size: 11px; color: #52606d; }
.svc { font-size: 11px; padding: 1px 5px; border-radius: 3px; background: #e0e7ff; }
.svc.atf-worker { background: #dcfce7; } .kind { color: #9aa5b1; font-size: 11px; }
</style></head><body>
<h1>${escape(title)}</h1>
<p>${traces.length === 1 ? `trace ${traces[0]}` : `${traces.length} traces`} · ${spans.length} spans · ${total.toFixed(0)} ms</p>
<table>${rows}</table>
</body></html>`;
}
