/**
 * How far one subscriber (one WebSocket connection) may fall behind: events queued for it
 * and their bytes, over all its subscriptions. A client that stops reading makes graphql-ws
 * wait on the socket, so its events pile up here; past either limit `onOverflow` runs once
 * (the transport closes the socket with SUBSCRIBER_TOO_SLOW) and the queues let go of it all.
 */
export interface BacklogLimits {
  /** Events queued and not yet sent (WS_SUBSCRIBER_MAX_EVENTS). */
  maxEvents: number;
  /** Bytes of those events, as they arrived from Redis (WS_SUBSCRIBER_MAX_BYTES). */
  maxBytes: number;
}

export interface Backlog {
  /** Counts an event queued; past a limit the backlog overflows (and stays overflowed). */
  add(bytes: number): void;
  /** Counts an event sent or dropped. */
  remove(bytes: number): void;
  readonly overflowed: boolean;
  /** Runs when the backlog overflows, or at once if it already has; returns an unsubscribe. */
  onOverflow(listener: () => void): () => void;
}

/** WebSocket close code for a subscriber that fell behind (4000-4999: the application's own). */
export const SUBSCRIBER_TOO_SLOW = 4480;

export function createBacklog(limits: BacklogLimits): Backlog & { readonly events: number; readonly bytes: number } {
  let events = 0;
  let bytes = 0;
  let overflowed = false;
  const listeners = new Set<() => void>();

  const overflow = () => {
    overflowed = true;
    for (const listener of [...listeners]) listener();
    listeners.clear();
  };

  return {
    add(size) {
      events += 1;
      bytes += size;
      if (!overflowed && (events > limits.maxEvents || bytes > limits.maxBytes)) overflow();
    },
    remove(size) {
      events = Math.max(0, events - 1);
      bytes = Math.max(0, bytes - size);
    },
    get overflowed() {
      return overflowed;
    },
    onOverflow(listener) {
      if (overflowed) {
        listener();
        return () => undefined;
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get events() {
      return events;
    },
    get bytes() {
      return bytes;
    },
  };
}
