import type { TaskState } from '../gql/graphql.ts';

export function StateBadge(props: { state: TaskState }) {
  return (
    <span class={`state state-${props.state.toLowerCase()}`} data-state={props.state}>
      {props.state}
    </span>
  );
}
