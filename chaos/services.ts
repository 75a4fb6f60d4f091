/**
 * API servers and workers as child processes (`node --import tsx <main.ts>`), so chaos and
 * bench can signal them for real and read their CPU and memory from /proc. Each keeps its
 * last log lines for reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..');
const MAIN = { server: join(ROOT, 'server', 'main.ts'), worker: join(ROOT, 'worker', 'main.ts') } as const;
const READY = { server: '"server listening"', worker: '"worker started"' } as const;

export type ServiceKind = keyof typeof MAIN;

export interface Service {
  kind: ServiceKind | 'script';
  name: string;
  pid: number;
  /** The last 200 log lines. */
  lines: string[];
  /** True until the process exited. */
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
}

export interface ServiceLogOptions {
  /** Appends every log line to this file as well (the directory must exist). */
  logFile?: string;
  /**
   * Another checkout to run the service from (the bench compares against an earlier commit):
   * its `server/main.ts` or `worker/main.ts`, with it as the working directory.
   */
  root?: string;
}

/** Starts `kind` with `env` over the parent's environment; resolves once it says it is ready. */
export function startService(
  kind: ServiceKind,
  name: string,
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
  logOptions: ServiceLogOptions = {},
): Promise<Service> {
  const main = logOptions.root ? join(logOptions.root, kind, 'main.ts') : MAIN[kind];
  return startScript(main, READY[kind], name, env, readyTimeoutMs, kind, logOptions);
}

/**
 * Starts any TypeScript entry point; ready once a log line contains `readyMarker`, or, for a
 * process that logs too little for that, once `readyMarker()` resolves true (polled).
 */
export async function startScript(
  script: string,
  readyMarker: string | (() => Promise<boolean>),
  name: string,
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
  kind: Service['kind'] = 'script',
  { logFile, root }: ServiceLogOptions = {},
): Promise<Service> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root ?? ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  // Closed once both pipes are: lines may still come after the process exited.
  let openPipes = 2;
  file?.on('error', () => undefined);
  let ready = false;
  let onReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (onReady = resolve));
  for (const stream of [child.stdout!, child.stderr!]) {
    const reader = createInterface({ input: stream });
    reader.once('close', () => {
      openPipes -= 1;
      if (openPipes === 0) file?.end();
    });
    reader.on('line', (line) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      file?.write(`${line}\n`);
      if (!ready && typeof readyMarker === 'string' && line.includes(readyMarker)) {
        ready = true;
        onReady();
      }
    });
  }
  if (typeof readyMarker === 'function') {
    void (async () => {
      while (!ready && child.exitCode === null) {
        if (await readyMarker().catch(() => false)) {
          ready = true;
          onReady();
        } else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolve(code ?? signal ?? -1);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      readyPromise,
      exited.then((code) => Promise.reject(new Error(`${name} exited (${code}) before it was ready:\n${lines.slice(-20).join('\n')}`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} not ready after ${readyTimeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), readyTimeoutMs))),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    kind,
    name,
    pid: child.pid!,
    lines,
    alive: () => !exitedFlag,
    signal: (signal) => {
      if (!exitedFlag) child.kill(signal);
    },
    exited,
  };
}

/** Stops a service: SIGCONT (in case it is paused), SIGTERM, then SIGKILL after `graceMs`. */
export async function stopService(service: Service, graceMs = 5000): Promise<void> {
  if (!service.alive()) return;
  service.signal('SIGCONT');
  service.signal('SIGTERM');
  const timer = setTimeout(() => service.signal('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used so far, in microseconds; 0 once it is gone. */
export function processCpuMicros(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in bytes. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}
