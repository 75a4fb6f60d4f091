/**
 * How far one subscriber (one WebSocket connection) may fall behind: events queued for it,
 * and bytes, over all its subscriptions. graphql-ws sends each subscription's next event
 * only once the socket took the last one, so a client that stops reading holds back at most
 * one message per subscription in the socket, and its later events pile up in the queues.
 * Both places count: the bytes of the queued events, plus what the socket has not yet
 * flushed (`unflushedBytes`; one message can be far larger than the event it came from, its
 * content loaded, or selected thirty times through aliases). Past either limit `onOverflow`
 * runs once (the transport closes the socket with SUBSCRIBER_TOO_SLOW) and the queues let go
 * of it all.
 */
export interface BacklogLimits {
  /** Events queued and not yet sent (WS_SUBSCRIBER_MAX_EVENTS). */
  maxEvents: number;
  /**
   * Bytes of those events, as they arrived from Redis, plus bytes handed to the socket and not
   * yet flushed to the kernel (WS_SUBSCRIBER_MAX_BYTES).
   */
  maxBytes: number;
}

export interface Backlog {
  /** Counts an event queued; past a limit the backlog overflows (and stays overflowed). */
  add(bytes: number): void;
  /** Counts an event sent or dropped. */
  remove(bytes: number): void;
  /** Compares the bytes again, after the socket's unflushed bytes may have grown (a message sent). */
  check(): void;
  readonly overflowed: boolean;
  /** Runs when the backlog overflows, or at once if it already has; returns an unsubscribe. */
  onOverflow(listener: () => void): () => void;
}

/** WebSocket close code for a subscriber that fell behind (4000-4999: the application's own). */
export const SUBSCRIBER_TOO_SLOW = 4480;

/**
 * A backlog with `limits`. `unflushedBytes` reports what the connection's socket holds and has
 * not yet flushed (`ws`'s `bufferedAmount`); it is read whenever an event is queued and on
 * `check()`, so it must be cheap. Default: nothing (a backlog of queues only).
 */
export function createBacklog(
  limits: BacklogLimits,
  unflushedBytes: () => number = () => 0,
): Backlog & { readonly events: number; readonly bytes: number } {
  let events = 0;
  let bytes = 0;
  let overflowed = false;
  const listeners = new Set<() => void>();

  const overBytes = () => bytes + unflushedBytes() > limits.maxBytes;
  const overflow = () => {
    overflowed = true;
    for (const listener of [...listeners]) listener();
    listeners.clear();
  };

  return {
    add(size) {
      events += 1;
      bytes += size;
      if (!overflowed && (events > limits.maxEvents || overBytes())) overflow();
    },
    remove(size) {
      events = Math.max(0, events - 1);
      bytes = Math.max(0, bytes - size);
    },
    check() {
      if (!overflowed && overBytes()) overflow();
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
