import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const apiTarget = process.env.VITE_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`;

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [solid()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Advice on slow plugins, given when the machine is busy: about its load, not about this code.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    port: 5173,
    // In `npm run dev` the API runs beside Vite: queries, mutations and the WebSocket go through.
    proxy: {
      '/graphql': { target: apiTarget, ws: true, changeOrigin: true },
      '/health': apiTarget,
      '/ready': apiTarget,
      '/live': apiTarget,
    },
  },
});
