import { percent } from '../format.ts';

export function ProgressBar(props: { progress: number; label?: string }) {
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={props.label ?? 'progress'}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(props.progress * 100)}
    >
      <div class="progress-fill" style={{ width: percent(props.progress) }} />
    </div>
  );
}
