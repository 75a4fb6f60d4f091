/**
 * What every process's main.ts does around its own work: read the configuration (exit 2 with
 * every problem listed when it is invalid), start, and on SIGTERM or SIGINT stop in order;
 * a second signal exits at once.
 */
import { ConfigError } from './env.ts';
import { createLogger, type Logger } from './logger.ts';

export interface ProcessDefinition<Config extends { logLevel: string }> {
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): Config;
  /** Starts the process's work; returns how to stop it. */
  start(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }>;
}

export function runProcess<Config extends { logLevel: string }>(definition: ProcessDefinition<Config>): void {
  let config: Config;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${definition.name}: ${error.message}`);
    process.exit(2);
  }
  const logger = createLogger({ name: definition.name, level: config.logLevel });
  // A promise some library dropped must not take the whole process down with it.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  definition.start(config, logger).then(
    (running) => {
      let stopping = false;
      const shutdown = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down');
        running.stop().then(
          () => process.exit(0),
          (error) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
    },
    (error) => {
      logger.fatal({ err: error }, 'failed to start');
      process.exit(1);
    },
  );
}
