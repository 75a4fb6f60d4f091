/**
 * `npm start`: the whole system on one machine. Finds or starts Redis, starts the API server
 * (which also serves the built web client) and WORKER_REPLICAS workers, prints the URLs, and
 * on Ctrl-C stops every child in order: server and workers first, then a Redis it started.
 * The banner comes first: the children's lines until then are held and printed right after it.
 *
 * `npm run dev` (--dev): the same, with NODE_ENV=development, server and workers restarted
 * on file changes, and the Vite dev server (hot reload) proxying to the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { refuseOldRedis, resolveRedis, type ResolvedRedis } from './lib/redis-resolver.ts';

const ROOT = join(import.meta.dirname, '..');
const env = process.env;
const replicas = Number(env.WORKER_REPLICAS ?? 3);
const port = Number(env.PORT ?? 8000);
const STOP_TIMEOUT_MS = 15_000;
const dev = process.argv.includes('--dev');
const VITE_PORT = 5173;

const say = (message: string) => console.log(`[start] ${message}`);

if (!Number.isInteger(replicas) || replicas < 0 || replicas > 64) {
  console.error('[start] WORKER_REPLICAS must be an integer from 0 to 64');
  process.exit(2);
}

const children = new Map<string, ChildProcess>();
let redis: ResolvedRedis | null = null;
let stopping = false;

/**
 * The children's lines until the banner is out (null after): their start-up logs would push the
 * banner, the one thing a newcomer needs, out of sight. A start that fails prints them at once,
 * since they say why.
 */
let held: string[] | null = [];
const childLine = (line: string) => (held ? held.push(line) : console.log(line));
function releaseHeldLines(): void {
  const lines = held ?? [];
  held = null;
  for (const line of lines) console.log(line);
}

/** Runs `args` under this Node as a child with its output prefixed by `name`. */
function launch(name: string, args: string[], childEnv: NodeJS.ProcessEnv): ChildProcess {
  // Own process group: a terminal's Ctrl-C reaches only this supervisor, which then stops
  // the children in order, once each (a second signal would force them to exit at once).
  const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => childLine(`[${name}] ${line}`));
  }
  child.once('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited (${signal ?? `code ${code}`}); stopping everything`);
      void shutdown(1);
    }
  });
  children.set(name, child);
  return child;
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  releaseHeldLines();
  say('stopping…');
  const exits = [...children.values()].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  );
  await Promise.all(exits);
  await redis?.stop();
  say('stopped');
  process.exit(exitCode);
}

async function waitUntilReady(url: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function main(): Promise<void> {
  // Last resort if this process dies of an error: children are in their own groups.
  process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    redis = await resolveRedis({
      env,
      defaultUrl: env.ATF_DEFAULT_REDIS_URL ?? 'redis://127.0.0.1:6379',
      dataDir: env.ATF_DATA_DIR ?? join(ROOT, '.data', 'redis'),
      log: say,
    });
    // Any Redis, even one started here: the redis-server on PATH may be too old as well.
    await refuseOldRedis(redis.url, env, say);
  } catch (error) {
    console.error(`[start] ${(error as Error).message}`);
    await redis?.stop();
    process.exit(1);
  }
  if (redis.source !== 'spawned') say(`using Redis at ${redis.url.replace(/\/\/[^@]*@/, '//***@')} (${redis.source})`);

  const devEnv = {
    NODE_ENV: 'development',
    SERVE_CLIENT: 'false',
    // Children write to a pipe (prefixed here), so their `auto` would pick JSON: a developer
    // at a terminal reads pretty lines.
    LOG_FORMAT: env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    // The page comes from Vite, so its WebSocket carries Vite's origin.
    CORS_ORIGINS: env.CORS_ORIGINS ?? `http://localhost:${VITE_PORT},http://127.0.0.1:${VITE_PORT}`,
  };
  const childEnv = { ...env, REDIS_URL: redis.url, PORT: String(port), ...(dev ? devEnv : {}) };
  const node = (entry: string) => [...(dev ? ['--watch'] : []), '--import', 'tsx', join(ROOT, entry)];
  launch('server', node('server/main.ts'), childEnv);
  for (let i = 1; i <= replicas; i += 1) launch(`worker-${i}`, node('worker/main.ts'), childEnv);
  if (dev) {
    const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    launch('client', [vite, '--config', join(ROOT, 'client', 'vite.config.ts'), '--port', String(VITE_PORT), '--strictPort'], childEnv);
  }

  const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!(await waitUntilReady(url))) {
    if (!stopping) {
      releaseHeldLines();
      say('the server did not become ready in 30 s');
      await shutdown(1);
    }
    return;
  }
  say('AsyncTaskFlow is running:');
  say(`  web app   ${dev ? `http://localhost:${VITE_PORT}/   (Vite, hot reload)` : `${url}/`}`);
  say(`  GraphQL   ${url}/graphql   (WebSocket subscriptions on the same path)`);
  const graphiql = (env.NODE_ENV ?? 'development') === 'development' || dev || ['true', '1', 'yes'].includes(env.GRAPHIQL ?? '');
  if (graphiql) say(`  GraphiQL  ${url}/graphiql`);
  say(`  health    ${url}/health   (metrics: ${url}/metrics)`);
  say(`  workers   ${replicas}   (WORKER_REPLICAS)`);
  say('press Ctrl-C to stop');
  releaseHeldLines();
}

void main();
