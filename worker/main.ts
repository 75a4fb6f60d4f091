/** Composition root of a worker process: config -> provider -> runner + heartbeat. */
import { ConfigError } from '../common/env.ts';
import { createLogger } from '../common/logger.ts';
import { createWorker } from './worker.ts';
import { loadConfig } from './config.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`worker: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  const worker = createWorker(config, logger);
  await worker.start();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  console.error('worker: failed to start', error);
  process.exit(1);
});
