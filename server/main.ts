/** Composition root of the API server: config -> app -> listen; signals -> ordered stop. */
import { runProcess } from '../common/process.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';

runProcess({
  name: 'server',
  loadConfig,
  async start(config, logger) {
    const app = createApp(config, logger);
    const url = await app.start();
    logger.info({ url, graphql: `${url}/graphql` }, 'server listening');
    return app;
  },
});
