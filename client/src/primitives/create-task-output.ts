/**
 * One task's output as it is written: the taskOutput subscription, its chunks applied once per
 * animation frame by the pure reducer in output-merge.ts (reset replaces the text, a cursor is
 * applied once, older attempts are ignored).
 *
 * The cursor of the last chunk received is kept here, and every (re)start asks for what comes
 * after it: when the stream starts again because the task became live again, through the
 * variables; when graphql-ws resubscribes after a reconnect (urql does not see that, and would
 * send the first variables again), through `resumeVariables` in the operation context (see
 * `subscriptionPayload` in urql-client.ts). Either way nothing is asked for twice, and what
 * comes twice anyway is skipped by cursor.
 */
import { createSubscription } from '@urql/solid';
import { createComputed, createMemo, createSignal, on, onCleanup, untrack, type Accessor } from 'solid-js';
import { errorMessage } from '../format.ts';
import type { TaskOutputSubscription as TaskOutputData, TaskOutputSubscriptionVariables } from '../gql/graphql.ts';
import { TaskOutputSubscription } from '../graphql/tasks.ts';
import type { ResumableContext } from '../urql-client.ts';
import { createFrameBatcher, type FrameScheduler } from './frame-batcher.ts';
import { applyOutputChunks, emptyOutput, type OutputChunk, type TaskOutput } from './output-merge.ts';

export interface TaskOutputOptions {
  /** The task. Another id starts over with no text. */
  id: Accessor<string>;
  /**
   * Whether to stream (default: always). While false no subscription is open and the text
   * received so far stays; when it turns true again the stream resumes after the last chunk
   * received. Only a change starts a stream: one the server ended while `live` stayed true
   * is not restarted (the server ends it when the task ends, and the task's state follows).
   */
  live?: Accessor<boolean>;
  /** When to apply the chunks received (default: once per animation frame). */
  schedule?: FrameScheduler;
}

/**
 * Subscribes to a task's output while `live`, and returns the text written so far by the
 * attempt that wrote last, that attempt and its model, whether the final chunk came, and the
 * subscription's error (the text received before it stays).
 */
export function createTaskOutput(options: TaskOutputOptions) {
  const live = createMemo(options.live ?? (() => true));
  const [output, setOutput] = createSignal<TaskOutput>(emptyOutput(untrack(options.id)));
  // The resume point, moved as each chunk arrives (the text follows at the next frame): a
  // reconnect in between must not ask again for chunks already received.
  let resume: { id: string; cursor: string | null } = { id: untrack(options.id), cursor: null };
  const batcher = createFrameBatcher<OutputChunk>((chunks) => setOutput((current) => applyOutputChunks(current, chunks)), options.schedule);
  onCleanup(() => batcher.dispose());

  createComputed(
    on(
      options.id,
      (id) => {
        if (id === resume.id) return;
        // Chunks of the previous task still waiting for the frame are ignored by the reducer.
        resume = { id, cursor: null };
        setOutput(emptyOutput(id));
      },
      { defer: true },
    ),
  );

  const context: ResumableContext = { resumeVariables: () => ({ after: resume.cursor }) };
  // The handler keeps only the cursor in the subscription's store: @urql/solid reconciles what
  // it returns into the store, and reconciling a later result mutates the earlier object in
  // place, which would change a chunk still waiting for its frame. The chunk is copied too.
  const [state] = createSubscription<TaskOutputData, string, TaskOutputSubscriptionVariables>(
    {
      query: TaskOutputSubscription,
      // Read when the stream (re)starts; the cursor is read untracked so that a chunk does not
      // restart it. A new id may be read before the computed above resets `resume`.
      variables: () => {
        const id = options.id();
        return { id, after: untrack(() => (resume.id === id ? resume.cursor : null)) };
      },
      context,
      pause: () => !live(),
    },
    (_previous, data) => {
      const chunk = { ...data.taskOutput };
      if (chunk.taskId === resume.id) {
        resume.cursor = chunk.cursor;
        batcher.push(chunk);
      }
      return chunk.cursor;
    },
  );

  return {
    /** What `attempt()` has written so far. */
    text: () => output().text,
    /** The attempt whose text `text()` is; null before the first chunk. */
    attempt: () => output().attempt,
    /** The model writing `attempt()`, as its first chunk named it; null when unknown. */
    model: () => output().model,
    /** True once the final chunk came: `text()` is the result. */
    final: () => output().final,
    /** The cursor of the last chunk applied. */
    cursor: () => output().cursor,
    error: () => (state.error ? errorMessage(state.error) : null),
  };
}
