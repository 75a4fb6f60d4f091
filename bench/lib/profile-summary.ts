/**
 * Sums V8 CPU profiles (bench/lib/cpu-profile.mjs) into CPU µs per task: by package or source
 * file (self time), by function (self time), and under named frames (inclusive time), for each
 * arm and role a bench's manifest lists, side by side with the first arm as the baseline.
 *
 *   node --import tsx bench/lib/profile-summary.ts <dir> [--top 25] [--under <regex>]...
 *
 * <dir> holds `<pid>-<n>.cpuprofile` files and `manifest.json`:
 * `{ "arms": { "<arm>": { "tasks": n, "pids": { "<role>": pid } } } }` (roles sharing a
 * name up to a trailing number, worker0 and worker1, are summed as one). `--under` adds rows of
 * time spent inside frames whose file or function matches (e.g. `@opentelemetry`, `pino`);
 * `--callers <regex>` splits the self time of matching functions (native ones, say) by caller.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Manifest {
  arms: Record<string, { tasks: number; pids: Record<string, number> }>;
}

/** µs by key, accumulated over profiles. */
type Tally = Map<string, number>;

interface Summary {
  total: number;
  byGroup: Tally;
  byFunction: Tally;
  under: Tally;
  /** Self time of the frames matching `--callers`, by the first caller of ours or of a package. */
  callers: Tally;
}

const ROOT = join(import.meta.dirname, '..', '..');
const IDLE = new Set(['(idle)', '(root)']);

/** Where a frame's code lives: an npm package, a node: module, a file of ours, or V8's own. */
export function groupOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return pkg[1]!;
  if (frame.url.startsWith('node:')) return frame.url.split('/').slice(0, 2).join('/');
  const path = frame.url.replace(/^file:\/\//, '');
  // Another checkout's files (`--against`, bench/lib/arms.ts checkout) as this one's: they compare line up.
  const against = /\/atf-bench-against-[^/]+\/(.*)$/.exec(path);
  if (against) return against[1]!;
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

const functionOf = (frame: CallFrame) => `${frame.functionName || '(anonymous)'} ${groupOf(frame)}:${frame.lineNumber + 1}`;

function add(tally: Tally, key: string, micros: number): void {
  tally.set(key, (tally.get(key) ?? 0) + micros);
}

/** Adds one profile's samples to `into`; `under` patterns count a sample once if any frame on its stack matches. */
function summarize(profile: CpuProfile, under: RegExp[], callers: RegExp | null, into: Summary): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  profile.samples.forEach((id, i) => {
    // A sample stands for the time until the next one.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(id)!.callFrame;
    if (IDLE.has(frame.functionName)) return;
    into.total += micros;
    add(into.byGroup, groupOf(frame), micros);
    add(into.byFunction, functionOf(frame), micros);
    const matched = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      for (const pattern of under) if (pattern.test(url) || pattern.test(functionName)) matched.add(pattern.source);
    }
    for (const source of matched) add(into.under, source, micros);
    if (callers?.test(frame.functionName)) {
      // The nearest frame with a file: what asked for this native or V8 work.
      let at = parent.get(id);
      while (at !== undefined && !byId.get(at)!.callFrame.url) at = parent.get(at);
      const chain: string[] = [];
      for (let n = 0; at !== undefined && n < 3; n += 1, at = parent.get(at)) chain.push(functionOf(byId.get(at)!.callFrame));
      add(into.callers, `${frame.functionName} < ${chain.join(' < ')}`, micros);
    }
  });
}

const emptySummary = (): Summary => ({ total: 0, byGroup: new Map(), byFunction: new Map(), under: new Map(), callers: new Map() });

/** Summaries per arm and role (worker0, worker1 -> worker) from the profiles in `dir`. */
export function summarizeDir(dir: string, under: RegExp[], callers: RegExp | null = null): { manifest: Manifest; summaries: Map<string, Summary> } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const roleOf = new Map<number, string>();
  for (const [arm, { pids }] of Object.entries(manifest.arms)) for (const [role, pid] of Object.entries(pids)) roleOf.set(pid, `${arm}\t${role.replace(/\d+$/, '')}`);
  const summaries = new Map<string, Summary>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const key = roleOf.get(Number(file.split(/[-.]/)[0]));
    if (!key) continue;
    if (!summaries.has(key)) summaries.set(key, emptySummary());
    summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, under, callers, summaries.get(key)!);
  }
  return { manifest, summaries };
}

function table(title: string, arms: string[], tallies: Tally[], tasks: number[], top: number): string {
  const perTask = (tally: Tally, key: string, i: number) => (tally.get(key) ?? 0) / tasks[i]!;
  const keys = [...new Set(tallies.flatMap((tally) => [...tally.keys()]))];
  // Largest difference from the first arm first, then largest.
  keys.sort((a, b) => Math.abs(perTask(tallies.at(-1)!, b, tallies.length - 1) - perTask(tallies[0]!, b, 0)) - Math.abs(perTask(tallies.at(-1)!, a, tallies.length - 1) - perTask(tallies[0]!, a, 0)));
  const lines = [`${title}`, `| µs per task | ${arms.join(' | ')} | Δ |`, `|---|${arms.map(() => '---:|').join('')}---:|`];
  for (const key of keys.slice(0, top)) {
    const values = tallies.map((tally, i) => perTask(tally, key, i));
    lines.push(`| ${key} | ${values.map((v) => v.toFixed(1)).join(' | ')} | ${(values.at(-1)! - values[0]!).toFixed(1)} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, under: { type: 'string', multiple: true, default: [] }, callers: { type: 'string' } } });
  const top = Number(values.top);
  const under = values.under!.map((source) => new RegExp(source));
  const callers = values.callers ? new RegExp(values.callers) : null;
  const { manifest, summaries } = summarizeDir(positionals[0]!, under, callers);
  const arms = Object.keys(manifest.arms);
  const roles = [...new Set([...summaries.keys()].map((key) => key.split('\t')[1]!))];
  const tasks = arms.map((arm) => manifest.arms[arm]!.tasks);
  console.log(`tasks: ${arms.map((arm, i) => `${arm} ${tasks[i]}`).join(', ')}`);
  for (const role of roles) {
    const of = arms.map((arm) => summaries.get(`${arm}\t${role}`) ?? emptySummary());
    console.log(`\n## ${role}: ${of.map((s, i) => `${arms[i]} ${(s.total / tasks[i]!).toFixed(0)} µs`).join(', ')} per task (profiled CPU, idle excluded)\n`);
    if (under.length > 0) console.log(table('inside frames matching', arms, of.map((s) => s.under), tasks, top) + '\n');
    if (callers) console.log(table(`callers of ${callers.source}`, arms, of.map((s) => s.callers), tasks, top) + '\n');
    console.log(table('self time by package or file', arms, of.map((s) => s.byGroup), tasks, top) + '\n');
    console.log(table('self time by function', arms, of.map((s) => s.byFunction), tasks, top));
  }
}
