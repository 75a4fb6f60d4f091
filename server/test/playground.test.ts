/**
 * The bundled GraphiQL at /graphiql: served in development (or with GRAPHIQL=true), loads
 * nothing from the internet, and runs a subscription over graphql-ws in real Chromium. Against
 * a production server it takes an API key once (session storage) and then shows the schema,
 * which the server answers to key holders only (GRAPHQL_INTROSPECTION=keys).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../test/support/chromium.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { SAMPLE_TEXT, graphql, submitTask, type RunningServer } from '../../test/support/system.ts';

let development: RunningServer;
let production: RunningServer;
let enabled: RunningServer;
/** Production with API keys and GraphiQL: the deployment a key holder explores. */
let keyed: RunningServer;
/** Production with GRAPHQL_INTROSPECTION=on, and =off (with keys). */
let open: RunningServer;
let closed: RunningServer;
let browser: Browser;
let distDir: string;

const READER_KEY = 'playground-reader-key-0123456789';
const ADMIN_KEY = 'playground-admin-key-0123456789';
const API_KEYS = JSON.stringify([
  { key: READER_KEY, tenant: 'acme', scopes: ['tasks:read'] },
  { key: ADMIN_KEY, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);
const INTROSPECT = '{ __schema { queryType { name } } }';
const SCHEMA = { __schema: { queryType: { name: 'Query' } } };
const TYPO = '{ taks { totalCount } }';
const MASKED_TYPO = 'Cannot query field "taks" on type "Query".';

// Servers start below, once GraphiQL is built (their environment names the build).
const system = useSystem({ server: false, worker: {} });

beforeAll(async () => {
  distDir = mkdtempSync(join(tmpdir(), 'atf-graphiql-'));
  await build({ configFile: join(import.meta.dirname, '..', '..', 'graphiql', 'vite.config.ts'), logLevel: 'error', build: { outDir: distDir, emptyOutDir: true } });
  development = await system.startServer({ NODE_ENV: 'development', GRAPHIQL_DIST_DIR: distDir });
  production = await system.startServer({ NODE_ENV: 'production', GRAPHIQL_DIST_DIR: distDir });
  enabled = await system.startServer({ NODE_ENV: 'production', GRAPHIQL: 'true', GRAPHIQL_DIST_DIR: distDir });
  keyed = await system.startServer({ NODE_ENV: 'production', GRAPHIQL: 'true', GRAPHIQL_DIST_DIR: distDir, API_KEYS });
  open = await system.startServer({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'on' });
  closed = await system.startServer({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'off', API_KEYS });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(distDir, { recursive: true, force: true });
});

describe('/graphiql', () => {
  it('is served in development and when enabled, and not otherwise', async () => {
    expect((await fetch(`${development.url}/graphiql`)).status).toBe(200);
    expect((await fetch(`${enabled.url}/graphiql/`)).status).toBe(200);
    expect((await fetch(`${production.url}/graphiql`)).status).toBe(404);
  });

  it('bundles everything it loads: no script, style or font from another host', () => {
    const files = [join(distDir, 'index.html'), ...readdirSync(join(distDir, 'assets')).map((file) => join(distDir, 'assets', file))];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/<script[^>]+src=["']https?:/);
      expect(text, file).not.toMatch(/<link[^>]+href=["']https?:/);
      expect(text, file).not.toMatch(/@import\s+url\(["']?https?:/);
      expect(text, file).not.toMatch(/(unpkg\.com|jsdelivr\.net|cdnjs|embeddable-sandbox\.cdn\.apollographql\.com)/);
    }
  });

  it('runs a subscription over graphql-ws in Chromium and shows the task complete', async () => {
    const task = await submitTask(development, `${SAMPLE_TEXT} Watched from GraphiQL.`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(development.url) && !request.url().startsWith(development.wsUrl.replace(/\/graphql$/, ''))) external.push(request.url());
    });
    const query = `subscription { taskUpdated(id: "${task.id}") { id state version } }`;
    await page.goto(`${development.url}/graphiql?query=${encodeURIComponent(query)}`);
    // Run only once the editor holds the operation and the schema has loaded (the docs button is enabled by it).
    await page.locator('.graphiql-query-editor').getByText('taskUpdated').waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window').getByText('COMPLETED').waitFor({ timeout: 45_000 });
    expect(external.filter((url) => !url.startsWith('data:'))).toEqual([]);
    await page.close();
  }, 90_000);

  it('against a production server without a key, says how to get one', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${keyed.url}/graphiql`);
    await page.locator('#api-key-status').getByText('needs an API key').waitFor({ timeout: 30_000 });
    expect(await page.locator('#api-key-hint').innerText()).toContain('npm run keys');
    await page.close();
  }, 60_000);

  it('takes a key once, keeps it for the tab, and then lists submitTask in the docs explorer', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${keyed.url}/graphiql`);
    await page.locator('#api-key-input').fill(READER_KEY);
    await page.locator('#api-key-use').click();
    // The page loads again with the key; a reload keeps it (session storage).
    await page.locator('#api-key-status').getByText('given in this tab').waitFor({ timeout: 30_000 });
    await page.reload();
    await page.locator('#api-key-status').getByText('given in this tab').waitFor({ timeout: 30_000 });
    expect(await page.locator('#api-key-hint').count()).toBe(0);
    // A string: this file is checked against Node's types, which have no Storage.
    expect(await page.evaluate("[sessionStorage.getItem('atf.graphiql.apiKey'), localStorage.getItem('atf.apiKey')]")).toEqual([READER_KEY, null]);

    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Mutation', { exact: true }).click();
    await docs.getByText('submitTask', { exact: true }).waitFor({ timeout: 30_000 });
    await page.close();
  }, 60_000);
});

describe('introspection and suggestions', () => {
  it('are on in development and off in production', async () => {
    const introspect = '{ __schema { queryType { name } } }';
    expect((await graphql(development, introspect)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await graphql(production, introspect)).errors?.[0]?.message).toMatch(/introspection/i);
    const typo = '{ taks { totalCount } }';
    expect((await graphql(development, typo)).errors?.[0]?.message).toMatch(/Did you mean .*"tasks"\?$/);
    expect((await graphql(production, typo)).errors?.[0]?.message).toBe('Cannot query field "taks" on type "Query".');
  });

  it('in production, answers introspection to a key of any scope and to no one without a key', async () => {
    expect(await graphql(keyed, INTROSPECT, {}, READER_KEY)).toEqual({ status: 200, data: SCHEMA });
    expect(await graphql(keyed, INTROSPECT, {}, ADMIN_KEY)).toEqual({ status: 200, data: SCHEMA });
    expect((await graphql(keyed, '{ __type(name: "Task") { name } }', {}, READER_KEY)).data).toEqual({ __type: { name: 'Task' } });
    for (const key of [undefined, 'not-a-key-of-this-server-0123']) {
      const refused = await graphql(keyed, INTROSPECT, {}, key);
      expect(refused.status).toBe(401);
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('in production without keys, refuses introspection to everyone and says how to get a key', async () => {
    for (const query of [INTROSPECT, '{ __type(name: "Task") { name } }', 'query { ...F } fragment F on Query { __schema { types { name } } }']) {
      const refused = await graphql(production, query);
      expect(refused.status).toBe(401);
      expect(refused.data).toBeUndefined();
      expect(refused.errors).toEqual([
        {
          message: 'introspection needs an API key, and this server has none configured: make one with `npm run keys` and set AUTH_REQUIRED=true (or API_KEYS), or set GRAPHQL_INTROSPECTION=on',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ]);
    }
    // __typename is not introspection.
    expect(await graphql(production, '{ __typename }')).toEqual({ status: 200, data: { __typename: 'Query' } });
  });

  it('masks field suggestions in production, for key holders too', async () => {
    expect((await graphql(production, TYPO)).errors?.[0]?.message).toBe(MASKED_TYPO);
    expect((await graphql(keyed, TYPO, {}, ADMIN_KEY)).errors?.[0]?.message).toBe(MASKED_TYPO);
  });

  it('GRAPHQL_INTROSPECTION=on shows the schema and suggestions to anyone; off shows them to no one', async () => {
    expect(await graphql(open, INTROSPECT)).toEqual({ status: 200, data: SCHEMA });
    expect((await graphql(open, TYPO)).errors?.[0]?.message).toMatch(/Did you mean .*"tasks"\?$/);
    const refused = await graphql(closed, INTROSPECT, {}, ADMIN_KEY);
    expect(refused.status).toBe(400);
    expect(refused.errors).toEqual([{ message: 'introspection is off on this server (GRAPHQL_INTROSPECTION=off)', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    expect((await graphql(closed, TYPO, {}, ADMIN_KEY)).errors?.[0]?.message).toBe(MASKED_TYPO);
  });
});
