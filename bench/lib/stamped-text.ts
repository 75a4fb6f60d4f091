/**
 * Stamped text for the streaming scenario. Each piece of a streamed answer starts with the time
 * it was sent, this process's `performance.now()` in ms: the provider (or publisher) and the
 * subscribers live in the bench process, so a subscriber measures send-to-receipt per piece on
 * one clock, with nothing to synchronise.
 */

/** Where the send time goes; replaced by a stamp of the same length, so sizes never change. */
const PLACEHOLDER = '[t=############]';
const STAMP = /\[t=(\d{8}\.\d{3})\]/g;
const FILLER = 'the model keeps writing its answer one piece at a time while ten people watch it ';

/** `[t=00012345.678]`: now, as long as the placeholder (good for 27 hours of process uptime). */
export function stampNow(): string {
  return `[t=${performance.now().toFixed(3).padStart(12, '0')}]`;
}

/**
 * `count` pieces of exactly `chars` ASCII characters, each starting with the placeholder and
 * ending in a full stop: no whitespace at either end, so the worker neither trims nor holds
 * back any of it (its writer holds trailing whitespace until text follows).
 */
export function stampedPieces(count: number, chars: number): string[] {
  if (chars < PLACEHOLDER.length + 2) throw new Error(`a stamped piece needs at least ${PLACEHOLDER.length + 2} characters`);
  const body = FILLER.repeat(Math.ceil(chars / FILLER.length));
  return Array.from({ length: count }, () => `${PLACEHOLDER} ${body}`.slice(0, chars - 1) + '.');
}

/** `text` with its (first) placeholder replaced by the time now. */
export function stamped(text: string): string {
  return text.replace(PLACEHOLDER, stampNow());
}

/** The send times stamped in `text` (several when pieces were sent together), ms. */
export function stampsIn(text: string): number[] {
  return Array.from(text.matchAll(STAMP), (match) => Number(match[1]));
}

/**
 * Stream events stamped as they are sent. The fake provider writes its events in order and
 * reads each one from the array only when it writes it (`events.entries()`, then a pause of
 * `eventDelayMs` after each write), so a proxy that stamps on read stamps on send. If the fake
 * ever read them all up front, every stamp of an answer would be the same instant: the
 * scenario checks the stamps' spread and fails loudly instead of reporting wrong latencies.
 */
export function stampedOnSend(events: string[]): string[] {
  return new Proxy(events, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'string' && value.includes(PLACEHOLDER) ? stamped(value) : value;
    },
  });
}
