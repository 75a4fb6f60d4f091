/** Composition root of the API server: config -> app -> listen; signals -> ordered stop. */
import { createLogger } from '../common/logger.ts';
import { ConfigError } from '../common/env.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ name: 'server', level: config.logLevel });
  const app = createApp(config, logger);
  const url = await app.start();
  logger.info({ url, graphql: `${url}/graphql` }, 'server listening');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
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
  console.error('server: failed to start', error);
  process.exit(1);
});
