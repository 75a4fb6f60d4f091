/** Composition root of the API server: config -> app -> listen; signals -> ordered stop. */
import { runProcess } from '../common/process.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';

runProcess({
  name: 'server',
  loadConfig,
  async start(config, logger) {
    const app = createApp(config, logger, {
      // A Redis that was down at start and came up too old: nothing this server does would work.
      onFatal(error) {
        logger.fatal(`refusing to run: ${error.message}`);
        process.exit(1);
      },
    });
    const url = await app.start();
    logger.info({ url, graphql: `${url}/graphql` }, 'server listening');
    return app;
  },
});
