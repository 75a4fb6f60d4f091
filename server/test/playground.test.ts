/**
 * The bundled GraphiQL at /graphiql: served in development (or with GRAPHIQL=true), loads
 * nothing from the internet, and runs a subscription over graphql-ws in real Chromium.
 * Introspection and field suggestions follow the same switch.
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
let browser: Browser;
let distDir: string;

// Servers start below, once GraphiQL is built (their environment names the build).
const system = useSystem({ server: false, worker: {} });

beforeAll(async () => {
  distDir = mkdtempSync(join(tmpdir(), 'atf-graphiql-'));
  await build({ configFile: join(import.meta.dirname, '..', '..', 'graphiql', 'vite.config.ts'), logLevel: 'error', build: { outDir: distDir, emptyOutDir: true } });
  development = await system.startServer({ NODE_ENV: 'development', GRAPHIQL_DIST_DIR: distDir });
  production = await system.startServer({ NODE_ENV: 'production', GRAPHIQL_DIST_DIR: distDir });
  enabled = await system.startServer({ NODE_ENV: 'production', GRAPHIQL: 'true', GRAPHIQL_DIST_DIR: distDir });
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
});
