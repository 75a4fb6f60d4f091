/** A repository entry point run as a real Node child process, with its log lines collected and its error events watched. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { recordErrorRecord } from './silent-logger.ts';
import { watchErrors } from './error-watch.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface NodeProcess {
  pid: number;
  /** Every log line so far (stdout and stderr). */
  lines: string[];
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** True until the process has exited. */
  running(): boolean;
}

/**
 * Spawns `node --import tsx <entry>` from the repository root with `env` over this process's
 * environment. The child's `error` event and every JSON log line that reports an error
 * event (see silent-logger.ts) go to the error watch under `name`.
 */
export function spawnNode(name: string, entry: string, env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  watchErrors(`${name} process`, child);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('{')) {
        try {
          recordErrorRecord(`${name} log`, JSON.parse(line) as Record<string, unknown>);
        } catch {
          // Not a JSON log line (a stack trace's continuation, say): kept in `lines` only.
        }
      }
    });
  }
  let exitedYet = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedYet = true;
      resolve(code ?? signal ?? -1);
    }),
  );
  return { pid: child.pid!, lines, signal: (signal) => child.kill(signal), exited, running: () => !exitedYet };
}

/** Resolves once `ready` does, or rejects with the process's output if it exits first. */
export async function untilStarted(name: string, started: NodeProcess, ready: Promise<unknown>): Promise<void> {
  await Promise.race([
    ready,
    started.exited.then((code) => Promise.reject(new Error(`${name} exited (${code}) before it was ready:\n${started.lines.join('\n')}`))),
  ]);
}
