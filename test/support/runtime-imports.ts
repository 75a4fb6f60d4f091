/**
 * What a TypeScript entry file loads when tsx runs it, found by reading the sources: the
 * repository files it reaches through relative imports, and the npm packages it imports. For
 * checking an image by reading its Dockerfile (no Docker engine here). Type-only imports and
 * exports are left out: tsx erases them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';

const STATIC = /(?:^|[;\n])\s*(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const BUILTINS = new Set(builtinModules);

/** The package an import specifier names (`@scope/name/sub` -> `@scope/name`), or null for a builtin. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0]!)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Files under `root` (relative paths) and packages that `entry` (relative to `root`) loads, itself included. */
export function runtimeImports(root: string, entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    const specifiers = [
      ...[...text.matchAll(STATIC)].filter((match) => !match[1]).map((match) => match[2]!),
      ...[...text.matchAll(DYNAMIC)].map((match) => match[1]!),
    ];
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.')) {
        const name = packageOf(specifier);
        if (name) packages.add(name);
        continue;
      }
      const target = relative(root, join(root, dirname(file), specifier));
      const found = [target, `${target}.ts`, join(target, 'index.ts')].find((candidate) => existsSync(join(root, candidate)));
      if (!found) throw new Error(`${file}: cannot resolve ${specifier}`);
      visit(found);
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}
