import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the offline GraphiQL page the server mounts at /graphiql (development or GRAPHIQL=true). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/graphiql/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
});
