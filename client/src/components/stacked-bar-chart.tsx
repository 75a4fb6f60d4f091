/**
 * A small stacked bar chart as SVG: one bar per label (a day), one segment per series, the
 * largest series at the bottom. Each bar says its figures on hover (an SVG title), and the
 * whole chart in its accessible name.
 */
import { ChartCaption } from './chart-caption.tsx';
import { For, Show } from 'solid-js';

export interface BarSeries {
  name: string;
  className: string;
  values: readonly number[];
  /** What the legend shows beside the name (e.g. the series' total). */
  legend: string;
}

const W = 480;
const H = 170;
const PAD = { left: 52, right: 8, top: 10, bottom: 22 };

/** The smallest 1, 2 or 5 × 10^k at or above `value` (a round top for the axis). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= value * (1 - 1e-9)) ?? 10;
  return step * magnitude;
}

export function StackedBarChart(props: {
  title: string;
  /** One per bar, oldest first. */
  labels: readonly string[];
  /** What the last label is called on the axis (e.g. "today"). */
  lastLabel?: string;
  series: readonly BarSeries[];
  format: (value: number) => string;
  /** Shown instead of the bars when there is nothing to draw. */
  empty: string;
}) {
  const totals = () => props.labels.map((_, i) => props.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = () => niceCeiling(Math.max(0, ...totals()));
  const band = () => (W - PAD.left - PAD.right) / Math.max(1, props.labels.length);
  const barWidth = () => Math.max(2, band() * 0.7);
  const x = (i: number) => PAD.left + i * band() + (band() - barWidth()) / 2;
  const y = (v: number) => H - PAD.bottom - (v / max()) * (H - PAD.top - PAD.bottom);
  // Every label when there are few bars, else about six of them, the last always.
  const every = () => Math.max(1, Math.ceil(props.labels.length / 7));
  const shows = (i: number) => i === props.labels.length - 1 || (i % every() === 0 && props.labels.length - 1 - i >= every() / 2);
  const segments = (i: number) => {
    let base = 0;
    return props.series.map((s) => {
      const value = s.values[i] ?? 0;
      const segment = { series: s, value, y0: base, y1: base + value };
      base += value;
      return segment;
    });
  };
  const barTitle = (i: number) =>
    `${props.labels[i]}: ${props.format(totals()[i] ?? 0)}${props.series
      .filter((s) => (s.values[i] ?? 0) > 0)
      .map((s) => `\n${s.name} ${props.format(s.values[i]!)}`)
      .join('')}`;
  const summary = () => props.series.map((s) => `${s.name} ${s.legend}`).join(', ') || props.empty;
  return (
    <figure class="chart">
      <ChartCaption
        title={props.title}
        items={props.series.map((s) => ({ name: s.name, className: s.className, figure: s.legend }))}
        swatchClass="legend-block"
      />
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title}: ${summary()}`}>
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} class="chart-axis" />
        <line x1={PAD.left} x2={W - PAD.right} y1={y(max())} y2={y(max())} class="chart-grid" />
        <text x={PAD.left - 4} y={y(max()) + 4} text-anchor="end" class="chart-tick">
          {props.format(max())}
        </text>
        <text x={PAD.left - 4} y={y(0) + 4} text-anchor="end" class="chart-tick">
          {props.format(0)}
        </text>
        <For each={props.labels}>
          {(label, i) => (
            <g class="chart-bar" data-bar={label} data-total={totals()[i()]}>
              <title>{barTitle(i())}</title>
              {/* The whole band answers hover, even over an empty day. */}
              <rect class="chart-band" x={PAD.left + i() * band()} width={band()} y={PAD.top} height={H - PAD.top - PAD.bottom} />
              <For each={segments(i())}>
                {(segment) => (
                  <Show when={segment.value > 0}>
                    <rect
                      class={`chart-segment ${segment.series.className}`}
                      x={x(i())}
                      width={barWidth()}
                      y={y(segment.y1)}
                      height={Math.max(0.5, y(segment.y0) - y(segment.y1))}
                    />
                  </Show>
                )}
              </For>
              <Show when={shows(i())}>
                <text x={x(i()) + barWidth() / 2} y={H - 6} text-anchor="middle" class="chart-tick">
                  {i() === props.labels.length - 1 && props.lastLabel ? props.lastLabel : label}
                </text>
              </Show>
            </g>
          )}
        </For>
      </svg>
    </figure>
  );
}
