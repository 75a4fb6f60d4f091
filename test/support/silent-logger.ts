import { pino } from 'pino';
import type { Logger } from '../../common/logger.ts';

/** A logger for in-process tests: warnings and errors only, set LOG_LEVEL to see more. */
export function testLogger(name: string): Logger {
  return pino({ name, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}
