/**
 * The task page shows the task's trace (Task.traceId) and links to it when the server has a
 * TRACE_URL_TEMPLATE: real Chromium, the real server with tracing on (an in-memory exporter).
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../common/tracing.ts';
import { tracingConfigFrom } from '../../common/tracing-config.ts';
import { createServerTracing } from '../../server/tracing/server-tracing.ts';
import type { RunningServer } from '../../test/support/system.ts';
import { openPage, startBrowserSystem, type BrowserSystem } from './support/browser.ts';
import type { Browser } from 'playwright-core';

let system: BrowserSystem;
let server: RunningServer;
let browser: Browser;
let tracing: Tracing;

beforeAll(async () => {
  tracing = (await startTracing(tracingConfigFrom({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 1, OTEL_BSP_SCHEDULE_DELAY: 5000 }), {
    defaultServiceName: 'atf-server',
    exporter: new InMemorySpanExporter(),
  }))!;
  system = await startBrowserSystem({
    serverEnv: { TRACE_URL_TEMPLATE: 'http://jaeger.example/trace/{traceId}?task={taskId}' },
    serverHooks: { tracing: createServerTracing(tracing) },
    workerEnv: false,
  });
  ({ server, browser } = system);
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await tracing?.shutdown();
});

describe('the task page', () => {
  it('shows the trace id, linked through TRACE_URL_TEMPLATE', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      body: JSON.stringify({ query: 'mutation { submitTask(input: { content: "Trace me, please." }) { id } }' }),
    });
    const id = ((await response.json()) as { data: { submitTask: { id: string } } }).data.submitTask.id;
    const { page, problems, close } = await openPage(browser, `${server.url}/tasks/${id}`);
    const link = page.locator('[data-testid="trace"] a');
    await link.waitFor();
    expect(await link.textContent()).toContain(traceId);
    expect(await link.getAttribute('href')).toBe(`http://jaeger.example/trace/${traceId}?task=${id}`);
    expect(problems).toEqual([]);
    await close();
  });
});
