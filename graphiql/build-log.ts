/**
 * The bundler's logs for GraphiQL's build, minus the warnings it is known to raise for nothing.
 *
 * GraphiQL's React dependencies (Radix UI, react-compiler-runtime) start their modules with
 * `"use client"` or `"use no memo"`: directives for React Server Components and the React
 * Compiler, which mean nothing in a browser bundle. Rolldown warns about each one it drops
 * (MODULE_LEVEL_DIRECTIVE, 17 warnings with source frames). Only those are dropped here, by code
 * and directive: any other warning, a new directive included, still reaches Vite's logger, and
 * errors are never filtered.
 */
import type { Rolldown } from 'vite';

/** Directives that only React tooling outside the browser reads. */
const REACT_ONLY_DIRECTIVES = ['use client', 'use no memo'];

/** True for a log that is one of the known directive warnings. */
export function isKnownDirectiveWarning(level: Rolldown.LogLevel, log: Rolldown.RolldownLog): boolean {
  if (level !== 'warn' || log.code !== 'MODULE_LEVEL_DIRECTIVE') return false;
  const directive = /module level directive "([^"]+)"/.exec(log.message)?.[1];
  return directive !== undefined && REACT_ONLY_DIRECTIVES.includes(directive);
}

/** Rolldown's `onLog` for the GraphiQL build: everything but the known directive warnings goes to Vite. */
export const graphiqlOnLog: NonNullable<Rolldown.InputOptions['onLog']> = (level, log, defaultHandler) => {
  if (!isKnownDirectiveWarning(level, log)) defaultHandler(level, log);
};
