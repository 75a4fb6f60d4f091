/** Polls `predicate` until it returns a truthy value, or fails with `message` after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Lets `ms` pass. Only for a window that is itself the point of a test: that something does
 * NOT happen within it, or that an outage lasts that long. Never to let things settle: wait
 * on the condition with `waitFor` instead. Name the window and say why it is that long.
 */
export async function elapse(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
