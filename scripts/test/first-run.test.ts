/**
 * A newcomer's first `npm install && npm start`. The install prints no warning on the Node that
 * runs the tests (no dependency declares a newer Node than it: docs/development.md). Then
 * `npm start` builds the web app and GraphiQL before the banner: that build prints nothing when
 * it succeeds (no warning, no bundle report), and only the known bundler warnings are silenced,
 * so a new one still shows.
 *
 * The build is the real one (about 3 s on two idle cores): it rewrites client/dist and
 * graphiql/dist with what `npm run build` makes; no test serves those folders.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKnownDirectiveWarning } from '../../graphiql/build-log.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands `npm start` runs before its supervisor: everything before `&& node`. */
function buildStepOfStart(): string {
  const [build, supervisor] = scripts.start!.split(' && node ');
  expect(supervisor, 'npm start runs a build, then the supervisor').toBeDefined();
  return build!;
}

/** Runs `command` in a shell at the repository root; resolves with its exit code and everything it printed. */
function run(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('sh', ['-c', `${command} 2>&1`], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout }),
    );
    child.stdin?.end();
  });
}

describe('installing from the lockfile', () => {
  it('prints no warning', async () => {
    // --dry-run checks the locked tree (each package's engines against this Node: EBADENGINE)
    // without touching node_modules, in about 3 s. --loglevel=warn: a user's .npmrc must not
    // hide what a fresh clone would show; audit and fund are registry notices, not the install's.
    const { code, output } = await run('npm ci --dry-run --no-audit --no-fund --loglevel=warn');
    expect(code, output).toBe(0);
    expect(output.split('\n').filter((line) => line.startsWith('npm '))).toEqual([]);
  }, 60_000);
});

describe("npm start's build step", () => {
  it('prints nothing on success and builds both bundles', async () => {
    const step = buildStepOfStart();
    expect(step).toBe('npm run build --silent');
    const { code, output } = await run(step);
    expect(code, output).toBe(0);
    // Nothing at all: a warning (or any other line) here would stand before the banner.
    expect(output).toBe('');
    expect(existsSync(join(ROOT, 'client', 'dist', 'index.html'))).toBe(true);
    expect(existsSync(join(ROOT, 'graphiql', 'dist', 'index.html'))).toBe(true);
  }, 120_000);
});

describe('the GraphiQL build silences only the known directive warnings', () => {
  const directive = (name: string) => ({
    code: 'MODULE_LEVEL_DIRECTIVE',
    message: `The semantics of the module level directive "${name}" in "node_modules/x/index.mjs" may not be preserved when bundling.`,
  });

  it('drops "use client" and "use no memo" warnings', () => {
    expect(isKnownDirectiveWarning('warn', directive('use client'))).toBe(true);
    expect(isKnownDirectiveWarning('warn', directive('use no memo'))).toBe(true);
  });

  it('keeps another directive, another warning, and anything that is not a warning', () => {
    expect(isKnownDirectiveWarning('warn', directive('use server'))).toBe(false);
    expect(isKnownDirectiveWarning('warn', { code: 'CIRCULAR_DEPENDENCY', message: 'Circular dependency: a -> b -> a' })).toBe(false);
    expect(isKnownDirectiveWarning('warn', { message: 'The semantics of the module level directive "use client"' })).toBe(false);
    expect(isKnownDirectiveWarning('info', directive('use client'))).toBe(false);
  });
});
