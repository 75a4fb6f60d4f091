/**
 * What every process's main.ts does around its own work: read the configuration (exit 2 with
 * every problem listed when it is invalid), start, and on SIGTERM or SIGINT stop in order;
 * a second signal exits at once.
 */
import { ConfigError } from './env.ts';
import type { LogFormat } from './log-config.ts';
import { createLogger, type Logger } from './logger.ts';

/**
 * A start refused for a known reason an operator must fix (a Redis too old, say): logged as
 * its message alone, without a stack, and the process exits 1.
 */
export class RefusedToStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedToStartError';
  }
}

/** What runProcess needs from any process's config. */
export interface ProcessConfig {
  logLevel: string;
  logFormat: LogFormat;
  nodeEnv: string;
  /** Logged once at start (a deprecated variable in use, ...). */
  warnings: readonly string[];
}

export interface ProcessDefinition<Config extends ProcessConfig> {
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): Config;
  /** Starts the process's work; returns how to stop it. */
  start(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }>;
}

export function runProcess<Config extends ProcessConfig>(definition: ProcessDefinition<Config>): void {
  let config: Config;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${definition.name}: ${error.message}`);
    process.exit(2);
  }
  const logger = createLogger({ name: definition.name, level: config.logLevel, format: config.logFormat, production: config.nodeEnv === 'production' });
  for (const warning of config.warnings) logger.warn(warning);
  // A promise some library dropped must not take the whole process down with it.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  // The signal handlers are in place as soon as start() begins, before anything it awaits: a
  // SIGTERM while the process is still starting (it may have logged that it started) waits for
  // the start to finish, then stops it in order.
  const started = definition.start(config, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    started
      .then((running) => running.stop())
      .then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  started.catch((error) => {
    if (error instanceof RefusedToStartError) logger.fatal(`refusing to start: ${error.message}`);
    else logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  });
}
