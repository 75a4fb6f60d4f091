/** Bench rows, the printed table and the JSON written to bench/results/. */
import { median } from './measure.ts';

export interface Target {
  /** Whether the target bounds the ratio to the baseline or the value itself. */
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  value: number;
}

export interface Row {
  scenario: string;
  measure: string;
  unit: string;
  /** One value per run. */
  runs: number[];
  baseline?: { label: string; runs: number[] };
  /** ours / baseline, paired run by run. */
  ratios?: number[];
  target?: Target;
}

/** A row measured against a baseline, with ratios paired by run. */
export function compared(scenario: string, measure: string, unit: string, runs: number[], baselineLabel: string, baselineRuns: number[], target?: Target): Row {
  const ratios = runs.map((value, i) => value / baselineRuns[i]!);
  return { scenario, measure, unit, runs, baseline: { label: baselineLabel, runs: baselineRuns }, ratios, ...(target ? { target } : {}) };
}

export function isMet(row: Row): boolean | null {
  if (!row.target) return null;
  const value = row.target.on === 'ratio' ? (row.ratios ? median(row.ratios) : NaN) : median(row.runs);
  if (Number.isNaN(value)) return false;
  return row.target.op === '>=' ? value >= row.target.value : value <= row.target.value;
}

const fmt = (value: number): string => {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
};

const spread = (values: number[]) =>
  values.length === 1 ? fmt(values[0]!) : `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;

/** The table as Markdown (printed, and pasted into docs/performance.md). */
export function formatTable(rows: Row[]): string {
  const lines = [
    '| scenario | measure | ours: median (min–max) | baseline | ratio: median (min–max) | target | met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const target = row.target ? `${row.target.on === 'ratio' ? '×' : ''} ${row.target.op} ${row.target.value}${row.target.on === 'value' ? ` ${row.unit}` : ''}`.trim() : '';
    const met = isMet(row);
    lines.push(
      `| ${row.scenario} | ${row.measure} | ${spread(row.runs)} ${row.unit} | ${row.baseline ? `${row.baseline.label}: ${fmt(median(row.baseline.runs))}` : ''} | ${row.ratios ? `${spread(row.ratios)}×` : ''} | ${target} | ${met === null ? '' : met ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}
