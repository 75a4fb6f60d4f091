import { createMemo, Show } from 'solid-js';
import { createTaskOutput } from '../primitives/create-task-output.ts';
import { outputTail } from '../primitives/output-merge.ts';

/**
 * A table row under a running task's row with the last characters it has written, live (one
 * taskOutput subscription while mounted). The row appears with the first text.
 */
export function OutputTailRow(props: { id: string; columns: number }) {
  const output = createTaskOutput({ id: () => props.id });
  const tail = createMemo(() => outputTail(output.text()));
  return (
    <Show when={tail()}>
      <tr class="output-tail" data-output-of={props.id}>
        <td colspan={props.columns} data-testid="output-tail">
          {tail()}
        </td>
      </tr>
    </Show>
  );
}
