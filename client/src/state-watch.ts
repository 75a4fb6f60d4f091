/**
 * Watches a live task feed for the moments a figure read on request (spend, tenants' counts) may
 * have moved: a task entering a state it was not in, for the states `moves` accepts (progress
 * updates keep the state, and say nothing). Pure: the caller decides what a move asks for.
 */
import type { TaskState } from './gql/graphql.ts';

const FINAL: ReadonlySet<TaskState> = new Set<TaskState>(['COMPLETED', 'DLQ', 'CANCELLED']);

/**
 * Returns a function that takes a batch of `{ id, state }` and answers whether any task entered
 * a state `moves` accepts. It remembers the state of at most `maxTracked` unfinished tasks
 * (final ones are forgotten; when full it starts over, which at worst asks for one more read).
 */
export function createStateWatch(moves: (state: TaskState) => boolean, maxTracked = 10_000) {
  const states = new Map<string, TaskState>();
  return (tasks: readonly { id: string; state: TaskState }[]): boolean => {
    let moved = false;
    for (const { id, state } of tasks) {
      if (states.get(id) !== state && moves(state)) moved = true;
      if (FINAL.has(state)) states.delete(id);
      else {
        if (states.size >= maxTracked && !states.has(id)) states.clear();
        states.set(id, state);
      }
    }
    return moved;
  };
}
