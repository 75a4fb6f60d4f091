/** How workers share their capacity between the primary and the retry queue. */

export interface RetryRatioSettings {
  /** Share of dispatches given to retries when both queues have work (RETRY_RATIO). */
  retryRatio: number;
  /** Retry backlog above which the share drops to 0.2 (RETRY_QUEUE_WARNING). */
  retryQueueWarning: number;
  /** Retry backlog above which the share drops to 0.1 (RETRY_QUEUE_CRITICAL). */
  retryQueueCritical: number;
}

/**
 * The retry share in force for a retry backlog of `retryDepth`: a growing backlog gets a
 * smaller share so new work is never starved by a retry storm.
 */
export function retryRatioInForce(retryDepth: number, settings: RetryRatioSettings): number {
  if (retryDepth > settings.retryQueueCritical) return Math.min(settings.retryRatio, 0.1);
  if (retryDepth > settings.retryQueueWarning) return Math.min(settings.retryRatio, 0.2);
  return settings.retryRatio;
}
