/**
 * vitest globalSetup: one directory per `vitest run` where the first browser test file builds
 * the web app and every other one reuses that build (`buildClient` in browser.ts). Building it
 * once instead of once per file saves a Vite build (seconds of CPU) per browser test file; no
 * build happens in a run without browser tests. The directory goes at the end of the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where browser tests share one build of the web app (see browser.ts, `buildClient`). */
    clientBuildRoot: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'atf-client-build-'));
  project.provide('clientBuildRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
