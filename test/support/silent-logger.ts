import { pino } from 'pino';
import type { Logger } from '../../common/logger.ts';
import { recordError } from './error-watch.ts';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * Whether a log record reports an `error` event. The server and worker turn the `error`
 * events of their Redis connections and bee-queue queues into warnings named `... error`
 * with an `err` field (server/wiring.ts, worker/worker.ts, worker/runner.ts); anything at
 * level error or above counts too.
 */
export function isErrorEventRecord(record: { level?: number; msg?: unknown; err?: unknown }): boolean {
  return (record.level ?? 0) >= LEVELS.error! || (record.err !== undefined && typeof record.msg === 'string' && / error$/.test(record.msg));
}

/** Reports a log record that is an error event to the error watch, as `source: msg: err`. */
export function recordErrorRecord(source: string, record: { level?: number; msg?: unknown; err?: unknown }): void {
  if (!isErrorEventRecord(record)) return;
  const err = record.err as { message?: string } | string | undefined;
  const detail = typeof err === 'string' ? err : (err?.message ?? '');
  recordError(source, `${String(record.msg)}${detail ? `: ${detail}` : ''}`);
}

/**
 * A logger for in-process tests. Prints nothing unless TEST_LOG_LEVEL is set (then that
 * level and above, to stdout); always reads warnings and errors, to report error events to
 * the error watch under `<name> log`.
 */
export function testLogger(name: string): Logger {
  const printFrom = LEVELS[process.env.TEST_LOG_LEVEL ?? 'silent'] ?? Infinity;
  const level = printFrom < LEVELS.warn! ? process.env.TEST_LOG_LEVEL! : 'warn';
  return pino(
    { name, level },
    {
      write(line: string) {
        const record = JSON.parse(line) as { level: number; msg?: unknown; err?: unknown };
        recordErrorRecord(`${name} log`, record);
        if (record.level >= printFrom) process.stdout.write(line);
      },
    },
  );
}
