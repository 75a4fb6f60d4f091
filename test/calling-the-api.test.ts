/**
 * docs/calling-the-api.md, run: its curl block and its Node example against a real server
 * (API keys on), a real worker and the fake OpenRouter streaming slowly; the Node example
 * through a TCP proxy that drops every connection mid-stream, so it must resume with
 * `afterVersion` and `after`. Then what the page says browsers on another origin can and cannot
 * do, and each troubleshooting answer, with the page quoting the server's own messages.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { streamedAnswer } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { graphql, rawGraphQL, SAMPLE_TEXT, submitTask, waitForTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const ROOT = join(import.meta.dirname, '..');
const PAGE = readFileSync(join(ROOT, 'docs', 'calling-the-api.md'), 'utf8');
/** The page's prose with every run of white space as one space: a quote may wrap across lines. */
const PAGE_TEXT = PAGE.replace(/\s+/g, ' ');
const WRITER_KEY = 'calling-the-api-writer-0123456789';
const READER_KEY = 'calling-the-api-reader-0123456789';
const LIMITED_KEY = 'calling-the-api-limited-0123456789';
const APP_ORIGIN = 'https://app.example';
const ANSWER = 'Redis keeps its data in memory and writes it to disk in the background. '.repeat(5).trim();

const system = useSystem({
  fake: true,
  server: {
    API_KEYS: JSON.stringify([
      { key: WRITER_KEY, tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] },
      { key: READER_KEY, tenant: 'acme', scopes: ['tasks:read'] },
      { key: LIMITED_KEY, tenant: 'acme', scopes: ['tasks:write'] },
    ]),
    CORS_ORIGINS: APP_ORIGIN,
    SUBMIT_RATE_LIMIT: '5/60s',
  },
  worker: { OUTPUT_FLUSH_MS: '10', OUTPUT_FLUSH_CHARS: '16', PROVIDER_TIMEOUT_MS: '20000' },
});

/** The first fenced block of `language` under the `## heading` section of the page. */
function codeBlock(heading: string, language: string): string {
  const section = PAGE.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  const block = section && new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  if (!block) throw new Error(`docs/calling-the-api.md has no ${language} block under "## ${heading}"`);
  return block;
}

interface Run {
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Runs a command with `env` over PATH only (the page's reader has nothing else set), collecting its output. */
function run(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const result: Run = { stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout.on('data', (data: Buffer) => (result.stdout += data.toString('utf8')));
  child.stderr.on('data', (data: Buffer) => (result.stderr += data.toString('utf8')));
  return result;
}

/** A TCP proxy to `port` whose `cut()` drops every connection through it (a network that breaks). */
async function startProxy(port: number) {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
      return sockets.size;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const portOf = (url: string) => Number(new URL(url).port);

describe('calling the API, as the page shows it', () => {
  it('submits a task with the curl block and an API key', async () => {
    const curl = run('bash', ['-c', codeBlock('With curl', 'sh')], { ATF_URL: system.server.url, ATF_API_KEY: WRITER_KEY });
    expect(await curl.exited, curl.stderr).toBe(0);
    const answer = JSON.parse(curl.stdout) as { data: { submitTask: { id: string; state: string } } };
    expect(answer.data.submitTask.state).toBe('PENDING');
    expect((await waitForTask(system.server, answer.data.submitTask.id, ['COMPLETED'], { apiKey: WRITER_KEY })).state).toBe('COMPLETED');
  });

  it('follows a task with the Node example, which resumes both feeds after the connection drops mid-stream', { timeout: 60_000 }, async () => {
    system.fake.script((request) => streamedAnswer(request, { chunks: 40, delayMs: 50, text: ANSWER }));
    const dir = join(ROOT, 'test-artifacts', 'calling-the-api');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'watch-task.mjs');
    writeFileSync(file, codeBlock('From Node: follow a task live, and resume', 'js'));
    const proxy = await startProxy(portOf(system.server.url));
    try {
      const task = await submitTask(system.server, SAMPLE_TEXT, {}, WRITER_KEY);
      // A watcher needs only tasks:read, as the page advises for a browser.
      const watcher = run(process.execPath, [file, task.id], { ATF_URL: proxy.url, ATF_API_KEY: READER_KEY });
      await waitFor(() => watcher.stdout.length > 0 && watcher.stderr.includes('[state] ACTIVE'), { timeoutMs: 15_000, message: 'the first text' });
      expect(proxy.cut()).toBeGreaterThan(0);
      expect(await watcher.exited, watcher.stderr).toBe(0);

      const done = await waitForTask(system.server, task.id, ['COMPLETED'], { apiKey: WRITER_KEY });
      expect(watcher.stdout).toBe(done.result);
      expect(done.result).toBe(ANSWER);
      const resumes = [...watcher.stderr.matchAll(/^\[resume\] (.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, unknown>);
      expect(resumes).toContainEqual({ id: task.id, afterVersion: expect.any(Number) });
      expect(resumes).toContainEqual({ id: task.id, after: expect.any(String) });
      const versions = [...watcher.stderr.matchAll(/^\[state\] \w+ \(version (\d+)\)$/gm)].map((match) => Number(match[1]));
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
      expect(watcher.stderr).toMatch(/^\[state\] COMPLETED \(version \d+\)$/m);
      expect(watcher.stderr).toContain(`[done] COMPLETED, ${ANSWER.length} characters`);
    } finally {
      await proxy.close();
    }
  });
});

/** The HTTP status of a WebSocket upgrade to the server from `origin` (101: accepted). */
function upgradeStatus(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(system.server.wsUrl, 'graphql-transport-ws', { headers: { Origin: origin } });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

describe('a browser on another origin, as the page says', () => {
  it('may open the WebSocket only from an origin in CORS_ORIGINS', async () => {
    expect(await upgradeStatus(APP_ORIGIN)).toBe(101);
    expect(await upgradeStatus('https://elsewhere.example')).toBe(401);
  });

  it('gets no CORS headers over HTTP, listed origin or not, so its preflight fails', async () => {
    for (const authorization of [undefined, `Bearer ${READER_KEY}`]) {
      const response = await fetch(`${system.server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type', ...(authorization ? { authorization } : {}) },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const post = await rawGraphQL(system.server, { query: '{ viewer { tenant } }' }, { origin: APP_ORIGIN, authorization: `Bearer ${READER_KEY}` });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('troubleshooting, as the page answers it', () => {
  it('1: no key is 401 over HTTP and 4403 over WebSocket; a key without the scope is FORBIDDEN', async () => {
    const missing = await graphql(system.server, '{ viewer { tenant } }');
    expect(missing.status).toBe(401);
    expect(PAGE_TEXT).toContain(missing.errors![0]!.message);
    let closeCode: number | null = null;
    system.wsClient(system.server, { lazy: false, onNonLazyError: () => undefined, on: { closed: (event) => void (closeCode = (event as { code: number }).code) } });
    expect(await waitFor(() => closeCode, { message: 'the keyless WebSocket to close' })).toBe(4403);
    const forbidden = await graphql(system.server, '{ queueStatus { dlq } }', {}, READER_KEY);
    expect(forbidden.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(PAGE_TEXT).toContain(forbidden.errors![0]!.message);
  });

  it('2: a POST without Content-Type: application/json is blocked as CSRF', async () => {
    const response = await fetch(`${system.server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WRITER_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"query": "{ viewer { tenant } }"}',
    });
    expect(response.status).toBe(400);
    const message = ((await response.json()) as { errors: { message: string }[] }).errors[0]!.message;
    expect(message.startsWith('This operation has been blocked as a potential Cross-Site Request Forgery')).toBe(true);
    expect(PAGE_TEXT).toContain('This operation has been blocked as a potential Cross-Site Request Forgery');
  });

  it('3: a server without keys answers only requests addressed to localhost', async () => {
    const open = await system.startServer();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${open.url}/graphql`, { method: 'POST', headers: { host: 'my-laptop.lan:8000', 'content-type': 'application/json' } }, (response) => {
        let body = '';
        response.on('data', (data: Buffer) => (body += data.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end('{"query": "{ viewer { tenant } }"}');
    });
    expect(answer.status).toBe(403);
    const message = (JSON.parse(answer.body) as { error: string }).error;
    expect(PAGE_TEXT).toContain(message);
  });

  it('4: Node 20 needs webSocketImpl, and a query over the socket is BAD_REQUEST', async () => {
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
      expect(() => createClient({ url: system.server.wsUrl })).toThrow(/^WebSocket implementation missing/);
    }
    expect(PAGE_TEXT).toContain('WebSocket implementation missing');
    const client = system.wsClient(system.server, { connectionParams: { authorization: `Bearer ${READER_KEY}` } });
    const errors = await new Promise<{ message: string; extensions?: { code?: string } }[]>((resolve) =>
      client.subscribe({ query: '{ viewer { tenant } }' }, { next: () => undefined, error: (error) => resolve(error as never), complete: () => resolve([]) }),
    );
    expect(errors[0]!.extensions!.code).toBe('BAD_REQUEST');
    expect(errors[0]!.message.startsWith('only subscriptions are served over WebSocket')).toBe(true);
    expect(PAGE_TEXT).toContain('only subscriptions are served over WebSocket');
  });

  it('5: over the submit rate limit is 429 with Retry-After, and nothing is submitted', async () => {
    const sixSubmits = `mutation { ${[1, 2, 3, 4, 5, 6].map((n) => `s${n}: submitTask(input: {content: "Rate limited ${n}."}) { id }`).join(' ')} }`;
    const limited = await graphql(system.server, sixSubmits, {}, LIMITED_KEY);
    expect(limited.status).toBe(429);
    expect(limited.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(limited.errors![0]!.extensions!.details!.retryAfterSeconds).toEqual(expect.any(Number));
    const listed = await graphql<{ tasks: { nodes: { content: string }[] } }>(system.server, '{ tasks(first: 50) { nodes { content } } }', {}, WRITER_KEY);
    expect(listed.data!.tasks.nodes.filter((task) => task.content.startsWith('Rate limited'))).toEqual([]);
  });
});
