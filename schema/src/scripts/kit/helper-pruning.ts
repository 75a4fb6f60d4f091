/**
 * A script carries only the Lua helpers it calls. Every call of a script makes a closure of each
 * helper it defines, and each local a closure captures costs a walk of the captured locals so
 * far: a submit defined commit() and read_task() for nothing (docs/performance.md, "Less Lua a
 * call").
 */

/** A helper: a `local function` at column 0, and the lines it spans. */
interface Helper {
  name: string;
  from: number;
  to: number;
}

/** Comment lines name helpers without calling them. */
const isCode = (line: string) => !/^\s*--/.test(line);

/** The identifiers a piece of Lua code mentions. */
const mentioned = (lines: readonly string[]) => new Set(lines.filter(isCode).join('\n').match(/\w+/g));

/**
 * `helpers` (the prelude and the fragments a script uses) less the helpers that neither `body`,
 * nor the code around the helpers, nor a helper kept calls. Any mention keeps a helper.
 */
export function withoutUncalledHelpers(helpers: string, body: string): string {
  const lines = helpers.split('\n');
  const defined = new Map<string, Helper>();
  const outside: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const name = /^local function (\w+)\(/.exec(lines[i]!)?.[1];
    if (!name) {
      outside.push(lines[i]!);
      continue;
    }
    // A one-line helper ends on its own line; any other at the first `end` at column 0.
    let to = i;
    if (!/ end$/.test(lines[i]!)) while (lines[to] !== 'end') if (++to >= lines.length) throw new Error(`helper ${name} has no end at column 0`);
    defined.set(name, { name, from: i, to });
    i = to;
  }
  // Reached from the body and the code around the helpers, then from each helper reached.
  const kept = new Set<Helper>();
  const pending = [...mentioned([...body.split('\n'), ...outside])];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const helper = defined.get(name);
    if (!helper || kept.has(helper)) continue;
    kept.add(helper);
    pending.push(...mentioned(lines.slice(helper.from, helper.to + 1)));
  }
  const dropped = [...defined.values()].filter((helper) => !kept.has(helper));
  return lines.filter((_, i) => !dropped.some((helper) => i >= helper.from && i <= helper.to)).join('\n');
}
