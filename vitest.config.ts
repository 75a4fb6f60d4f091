import { createRequire } from 'node:module';
import solid from 'vite-plugin-solid';
import { defineConfig } from 'vitest/config';
import LongFirstSequencer from './test/support/long-first-sequencer.ts';

const require = createRequire(import.meta.url);

// graphql 16 ships CommonJS (main) and ESM (module). Node, and every dependency here,
// load the CommonJS build; Vite would hand our sources the ESM one, and graphql refuses
// a schema made by "another module or realm". One copy, as in production.
const graphqlAlias = [{ find: /^graphql$/, replacement: require.resolve('graphql') }];
const common = {
  exclude: ['**/node_modules/**', 'client/dist/**'],
  // Each file gets its own redis-server; files run in parallel processes.
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 60_000,
};
// Component tests of the web app (client/src) run in happy-dom through vite-plugin-solid, which
// compiles the JSX and resolves Solid's browser build (Node's conditions would load solid-js'
// server build, where effects never run).
const COMPONENT_TESTS = 'client/src/**/*.test.ts';

export default defineConfig({
  resolve: { alias: graphqlAlias },
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // vitest's default on N cores is N - 1 files at a time: one on a 2-core CI machine, where
    // most files spend their time waiting on Redis, child processes, Chromium and real timers.
    // Two at a time use both cores; three ran a sample of 36 files faster still on a busy
    // machine, but more files at once put the tests with sub-second budgets (a 500 ms provider
    // timeout, a reconcile window) at risk of a slow scheduler, so two.
    maxWorkers: 2,
    // The longest files first, so that none of them ends the run alone (long-first-sequencer.ts).
    sequence: { sequencer: LongFirstSequencer },
    projects: [
      {
        resolve: { alias: graphqlAlias },
        test: {
          ...common,
          name: 'system',
          include: ['{schema,server,worker,common,client,scripts,tools,test}/**/*.test.ts'],
          exclude: [...common.exclude, COMPONENT_TESTS],
          // One build of the web app for all browser test files (client/test/support/browser.ts).
          globalSetup: ['client/test/support/client-build-setup.ts'],
        },
      },
      {
        plugins: [solid()],
        test: {
          ...common,
          name: 'components',
          include: [COMPONENT_TESTS],
          environment: 'happy-dom',
        },
      },
    ],
  },
});
