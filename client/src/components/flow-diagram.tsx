/**
 * The state-flow diagram as SVG: one node per state with its live count, one edge per
 * transition with how many tasks took it over the last minutes (width grows with the count,
 * a moving dash while tasks flow). Nodes link to the task table filtered by that state.
 */
import { For, Show } from 'solid-js';
import type { TaskState } from '../gql/graphql.ts';
import { edgeKey } from '../flow-model.ts';
import { navigate } from '../router.ts';

const NODE_W = 124;
const NODE_H = 58;
const NODES: Record<TaskState, { x: number; y: number }> = {
  PENDING: { x: 150, y: 80 },
  ACTIVE: { x: 380, y: 80 },
  COMPLETED: { x: 610, y: 80 },
  CANCELLED: { x: 150, y: 250 },
  SCHEDULED: { x: 380, y: 250 },
  DLQ: { x: 610, y: 250 },
};
const EDGES: [TaskState | null, TaskState][] = [
  [null, 'PENDING'],
  ['PENDING', 'ACTIVE'],
  ['ACTIVE', 'COMPLETED'],
  ['ACTIVE', 'SCHEDULED'],
  ['SCHEDULED', 'ACTIVE'],
  ['ACTIVE', 'DLQ'],
  ['DLQ', 'PENDING'],
  ['PENDING', 'CANCELLED'],
  ['SCHEDULED', 'CANCELLED'],
  ['ACTIVE', 'CANCELLED'],
  ['CANCELLED', 'PENDING'],
];

/** Where the segment from the centre of a node towards (dx, dy) leaves its rectangle. */
function exitPoint(center: { x: number; y: number }, dx: number, dy: number) {
  const scale = Math.min(NODE_W / 2 / Math.abs(dx || 1e-9), NODE_H / 2 / Math.abs(dy || 1e-9));
  return { x: center.x + dx * scale, y: center.y + dy * scale };
}

function edgeGeometry(from: TaskState | null, to: TaskState) {
  const end = NODES[to];
  if (from === null) {
    // New tasks come in from above.
    const top = end.y - NODE_H / 2;
    return { d: `M ${end.x} ${top - 44} L ${end.x} ${top}`, mid: { x: end.x + 30, y: top - 14 } };
  }
  if (from === 'DLQ' && to === 'PENDING') {
    // An operator's retry: around the bottom row and up the left side, clear of the other nodes.
    const a = { x: NODES.DLQ.x, y: NODES.DLQ.y + NODE_H / 2 };
    const left = NODES.CANCELLED.x - NODE_W / 2 - 26;
    const bottom = a.y + 24;
    const b = { x: end.x - NODE_W / 2, y: end.y + 10 };
    return {
      d: `M ${a.x} ${a.y} Q ${a.x} ${bottom} ${a.x - 30} ${bottom} L ${left + 20} ${bottom} Q ${left} ${bottom} ${left} ${bottom - 20} L ${left} ${b.y + 16} Q ${left} ${b.y} ${b.x} ${b.y}`,
      mid: { x: (a.x + left) / 2, y: bottom + 2 },
    };
  }
  const start = NODES[from];
  const dx = end.x - start.x;
  const dy = end.y - start.y;
  const length = Math.hypot(dx, dy);
  // Bend every edge a little to its left: the two directions of a pair never overlap.
  const bend = 22;
  const nx = (-dy / length) * bend;
  const ny = (dx / length) * bend;
  const a = exitPoint(start, dx + nx * 2, dy + ny * 2);
  const b = exitPoint(end, -dx + nx * 2, -dy + ny * 2);
  const control = { x: (a.x + b.x) / 2 + nx, y: (a.y + b.y) / 2 + ny };
  const mid = { x: (a.x + 2 * control.x + b.x) / 4, y: (a.y + 2 * control.y + b.y) / 4 };
  return { d: `M ${a.x} ${a.y} Q ${control.x} ${control.y} ${b.x} ${b.y}`, mid };
}

export function FlowDiagram(props: { counts: Partial<Record<TaskState, number>>; edges: Map<string, number>; minutes: number }) {
  const width = (count: number) => (count > 0 ? Math.min(2 + Math.log2(count + 1) * 1.6, 10) : 1.5);
  return (
    <svg class="flow-diagram" viewBox="40 15 680 310" role="group" aria-label={`Task states and the transitions of the last ${props.minutes} minutes`}>
      <defs>
        <marker id="flow-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="flow-arrow-head" />
        </marker>
      </defs>
      <For each={EDGES}>
        {([from, to]) => {
          const geometry = edgeGeometry(from, to);
          const count = () => props.edges.get(edgeKey(from, to)) ?? 0;
          return (
            <g class="flow-edge" classList={{ 'flow-edge-active': count() > 0 }} data-edge={edgeKey(from, to)} data-count={count()}>
              <path d={geometry.d} stroke-width={width(count())} marker-end="url(#flow-arrow)">
                <title>{`${from ?? 'submitted'} → ${to}: ${count()} in the last ${props.minutes} min`}</title>
              </path>
              <Show when={count() > 0 || from === null}>
                <text x={geometry.mid.x} y={geometry.mid.y - 6} class="flow-edge-label" text-anchor="middle">
                  {from === null ? `+${count()} new` : count()}
                </text>
              </Show>
            </g>
          );
        }}
      </For>
      <For each={Object.entries(NODES) as [TaskState, { x: number; y: number }][]}>
        {([state, at]) => (
          // A <g> with the link role, not an SVG <a>: Solid builds an <a> in a template outside
          // the <svg> as an HTML anchor, and its children then do not render.
          <g
            role="link"
            tabindex="0"
            class={`flow-node state-${state.toLowerCase()}`}
            data-flow-node={state}
            aria-label={`${state}: ${props.counts[state] ?? 0} tasks; show them`}
            onClick={() => navigate(`/tasks?state=${state}`)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' || event.key === ' ') {
                event.preventDefault();
                navigate(`/tasks?state=${state}`);
              }
            }}
          >
            <rect x={at.x - NODE_W / 2} y={at.y - NODE_H / 2} width={NODE_W} height={NODE_H} rx="10" />
            <text x={at.x} y={at.y - 6} text-anchor="middle" class="flow-node-name">
              {state}
            </text>
            <text x={at.x} y={at.y + 17} text-anchor="middle" class="flow-node-count" data-testid={`flow-count-${state}`}>
              {props.counts[state] ?? 0}
            </text>
          </g>
        )}
      </For>
    </svg>
  );
}
