/**
 * Whether a request left this process: fetch (undici) announces on the diagnostics channel
 * `undici:client:sendHeaders` each request whose headers it wrote to a socket. A call is told
 * apart by the `x-atf-call-id` header it carries. A call cut off with no answer is "maybe billed"
 * once its request left (the provider may have started it as we hung up), and certainly not
 * before (refused, unknown host, aborted while connecting). Nothing in fetch's own API says
 * which; the channel is undici's documented way to observe its requests.
 */
import { subscribe } from 'node:diagnostics_channel';

export const CALL_ID_HEADER = 'x-atf-call-id';

const SEND_HEADERS = 'undici:client:sendHeaders';
const watched = new Map<string, () => void>();
let subscribed = false;

/** The value of `name` in undici's request headers: a flat [name, value, ...] array, or raw "name: value\r\n" text. */
function headerValue(headers: unknown, name: string): string | null {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    return null;
  }
  if (typeof headers === 'string') {
    const line = headers.split('\r\n').find((entry) => entry.toLowerCase().startsWith(`${name}:`));
    return line ? line.slice(name.length + 1).trim() : null;
  }
  return null;
}

function onSendHeaders(message: unknown): void {
  if (watched.size === 0) return;
  const callId = headerValue((message as { request?: { headers?: unknown } }).request?.headers, CALL_ID_HEADER);
  if (callId) watched.get(callId)?.();
}

/**
 * Watches for the request of call `callId` leaving this process. `sent()` tells whether it did;
 * `dispose()` stops watching (call it when the call ends).
 */
export function watchRequestSent(callId: string): { sent(): boolean; dispose(): void } {
  if (!subscribed) {
    subscribe(SEND_HEADERS, onSendHeaders);
    subscribed = true;
  }
  let sent = false;
  watched.set(callId, () => {
    sent = true;
  });
  return {
    sent: () => sent,
    dispose: () => {
      watched.delete(callId);
    },
  };
}
