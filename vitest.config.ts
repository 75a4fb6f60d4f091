import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module). Node, and every dependency here,
    // load the CommonJS build; Vite would hand our sources the ESM one, and graphql refuses
    // a schema made by "another module or realm". One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['{schema,server,worker,common,client,scripts,tools,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'client/dist/**'],
    // Each file gets its own redis-server; files run in parallel processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
