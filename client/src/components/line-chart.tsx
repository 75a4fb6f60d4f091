/** A small live line chart as SVG: one line per series over per-minute points. */
import { ChartCaption } from './chart-caption.tsx';
import { For, Show } from 'solid-js';

export interface ChartSeries {
  name: string;
  className: string;
  values: readonly number[];
}

const W = 360;
const H = 150;
const PAD = { left: 34, right: 10, top: 10, bottom: 22 };

export function LineChart(props: { title: string; series: readonly ChartSeries[]; starts: readonly number[]; unit: string }) {
  const max = () => Math.max(1, ...props.series.flatMap((s) => s.values));
  const x = (i: number) => PAD.left + (props.starts.length > 1 ? (i / (props.starts.length - 1)) * (W - PAD.left - PAD.right) : 0);
  const y = (v: number) => H - PAD.bottom - (v / max()) * (H - PAD.top - PAD.bottom);
  const label = (ms: number | undefined) =>
    ms === undefined ? '' : new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const summary = () => props.series.map((s) => `${s.name} ${s.values.at(-1) ?? 0}`).join(', ');
  return (
    <figure class="chart">
      <ChartCaption title={props.title} items={props.series.map((s) => ({ name: s.name, className: s.className, figure: s.values.at(-1) ?? 0 }))} />
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title} (${props.unit}), latest: ${summary()}`}>
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} class="chart-axis" />
        <line x1={PAD.left} x2={W - PAD.right} y1={y(max())} y2={y(max())} class="chart-grid" />
        <text x={PAD.left - 4} y={y(max()) + 4} text-anchor="end" class="chart-tick">
          {max()}
        </text>
        <text x={PAD.left - 4} y={y(0) + 4} text-anchor="end" class="chart-tick">
          0
        </text>
        <text x={PAD.left} y={H - 4} class="chart-tick">
          {label(props.starts[0])}
        </text>
        <text x={W - PAD.right} y={H - 4} text-anchor="end" class="chart-tick">
          now
        </text>
        <For each={props.series}>
          {(s) => (
            <Show when={s.values.length > 0}>
              <polyline class={`chart-line ${s.className}`} points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />
              <circle class={`chart-dot ${s.className}`} cx={x(s.values.length - 1)} cy={y(s.values.at(-1) ?? 0)} r="3" />
            </Show>
          )}
        </For>
      </svg>
    </figure>
  );
}
