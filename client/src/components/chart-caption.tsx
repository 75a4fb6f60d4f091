/** A chart's caption: its title and a legend of its series, each with its swatch and a figure. */
import { For } from 'solid-js';

export function ChartCaption(props: { title: string; items: { name: string; className: string; figure: string | number }[]; swatchClass?: string }) {
  return (
    <figcaption>
      <span class="chart-title">{props.title}</span>
      <span class="chart-legend">
        <For each={props.items}>
          {(item) => (
            <span class={`legend-item ${item.className}`}>
              <span class={`legend-swatch${props.swatchClass ? ` ${props.swatchClass}` : ''}`} aria-hidden="true" />
              {item.name} <strong>{item.figure}</strong>
            </span>
          )}
        </For>
      </span>
    </figcaption>
  );
}
