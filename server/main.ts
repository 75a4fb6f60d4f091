/** Composition root of the API server: config -> app -> listen; signals -> ordered stop. */
import { runProcess } from '../common/process.ts';
import { startTracing } from '../common/tracing.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';

runProcess({
  name: 'server',
  loadConfig,
  async start(config, logger) {
    const tracing = await startTracing(config.tracing, {
      defaultServiceName: 'atf-server',
      onExportError: (error) => logger.warn({ err: error.message }, 'spans not exported'),
    });
    // Loaded only when tracing is on: otherwise no OpenTelemetry module is.
    const serverTracing = tracing ? (await import('./tracing/server-tracing.ts')).createServerTracing(tracing) : null;
    const app = createApp(config, logger, {
      tracing: serverTracing,
      // A Redis that was down at start and came up too old: nothing this server does would work.
      onFatal(error) {
        logger.fatal(`refusing to run: ${error.message}`);
        process.exit(1);
      },
    });
    const url = await app.start();
    logger.info({ url, graphql: `${url}/graphql` }, 'server listening');
    if (tracing) logger.info({ endpoint: config.tracing.tracesUrl, protocol: config.tracing.protocol }, 'tracing on');
    return {
      async stop() {
        await app.stop();
        // Last: the spans of the requests the stop let finish go out too.
        await tracing?.shutdown();
      },
    };
  },
});
