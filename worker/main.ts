/** Composition root of a worker process: config -> provider -> runner + heartbeat + sweeper. */
import { runProcess } from '../common/process.ts';
import { loadConfig } from './config.ts';
import { createWorker } from './worker.ts';

runProcess({
  name: 'worker',
  loadConfig,
  async start(config, logger) {
    const worker = createWorker(config, logger);
    await worker.start();
    return { stop: () => worker.stop() };
  },
});
