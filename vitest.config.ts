import { createRequire } from 'node:module';
import solid from 'vite-plugin-solid';
import { defineConfig } from 'vitest/config';

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
    projects: [
      {
        resolve: { alias: graphqlAlias },
        test: {
          ...common,
          name: 'system',
          include: ['{schema,server,worker,common,client,scripts,tools,test}/**/*.test.ts'],
          exclude: [...common.exclude, COMPONENT_TESTS],
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
