import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { graphiqlOnLog } from './build-log.ts';

/** Builds the offline GraphiQL page the server mounts at /graphiql (development or GRAPHIQL=true). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/graphiql/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // Drops only the known "use client" / "use no memo" warnings of GraphiQL's React dependencies.
      onLog: graphiqlOnLog,
      // Advice on slow plugins, given when the machine is busy: about its load, not about this code.
      checks: { bundlerTimings: false },
    },
  },
});
