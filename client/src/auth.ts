/**
 * The operator's API key: entered once in the key prompt, kept in localStorage, offered to
 * be forgotten. `keyRequired` turns on when the server refused us (HTTP 401, or the
 * WebSocket closed with 4403), and the app shows the key prompt.
 */
import { batch, createSignal } from 'solid-js';

const STORAGE_KEY = 'atf.apiKey';

function readStoredKey(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be off (private modes, policies): the key then lives for this page only.
    return null;
  }
}

const [apiKey, setApiKeySignal] = createSignal<string | null>(readStoredKey());
const [keyRequired, setKeyRequired] = createSignal(false);
const [keyRejected, setKeyRejected] = createSignal(false);

export { apiKey, keyRequired, keyRejected };

/** The Authorization header value for the current key, or null without one. */
export function authorization(): string | null {
  const key = apiKey();
  return key ? `Bearer ${key}` : null;
}

/** Stores a key (trimmed) and clears the "required" state; listeners reconnect with it. */
export function setApiKey(key: string): void {
  const trimmed = key.trim();
  try {
    window.localStorage.setItem(STORAGE_KEY, trimmed);
  } catch {
    // See readStoredKey.
  }
  // One batch, key first: the app that mounts again must send its first requests with it.
  batch(() => {
    setApiKeySignal(trimmed);
    setKeyRejected(false);
    setKeyRequired(false);
  });
}

/** Forgets the stored key; the next refusal asks again. */
export function forgetApiKey(): void {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // See readStoredKey.
  }
  setApiKeySignal(null);
}

/** The server refused the request for want of a (valid) key. */
export function reportUnauthenticated(): void {
  setKeyRejected(apiKey() !== null);
  setKeyRequired(true);
}
