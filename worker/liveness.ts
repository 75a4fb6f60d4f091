/**
 * Container liveness for a process that serves no HTTP: a file whose modification time moves
 * every `intervalMs` while the event loop runs. It does not touch Redis on purpose: a Redis
 * outage must not get healthy workers restarted (they reconnect on their own).
 * The check (Dockerfile HEALTHCHECK, Kubernetes exec probe) is a shell one-liner on its age.
 */
import { writeFileSync } from 'node:fs';

export function startLivenessFile(path: string, intervalMs: number, onError: (error: Error) => void): { dispose(): void } {
  const touch = () => {
    try {
      writeFileSync(path, `${Date.now()}\n`);
    } catch (error) {
      onError(error as Error);
    }
  };
  touch();
  const timer = setInterval(touch, intervalMs);
  timer.unref();
  return { dispose: () => clearInterval(timer) };
}
