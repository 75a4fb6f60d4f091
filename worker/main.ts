/** Composition root of a worker process: config -> provider -> runner + heartbeat + sweeper. */
import { runProcess } from '../common/process.ts';
import { startTracing } from '../common/tracing.ts';
import { loadConfig } from './config.ts';
import { createWorker } from './worker.ts';

runProcess({
  name: 'worker',
  loadConfig,
  async start(config, logger) {
    const tracing = await startTracing(config.tracing, {
      defaultServiceName: 'atf-worker',
      onExportError: (error) => logger.warn({ err: error.message }, 'spans not exported'),
    });
    // Loaded only when tracing is on: otherwise no OpenTelemetry module is.
    const traced = tracing ? (await import('./tracing/worker-tracing.ts')).workerTracing(tracing) : null;
    const worker = createWorker(config, logger, { tracing: traced });
    await worker.start();
    if (tracing) logger.info({ endpoint: config.tracing.tracesUrl, protocol: config.tracing.protocol, parenting: config.tracing.parenting }, 'tracing on');
    return {
      async stop() {
        await worker.stop();
        // Last: the spans of the attempts the stop let finish (or handed back) go out too.
        await tracing?.shutdown();
      },
    };
  },
});
