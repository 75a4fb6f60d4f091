/** Asks for an API key when the server demands one; the key stays in this browser. */
import { createSignal, Show } from 'solid-js';
import { keyRejected, setApiKey } from '../auth.ts';

export function KeyPrompt() {
  const [key, setKey] = createSignal('');
  return (
    <div class="overlay">
      <form
        class="card key-prompt"
        role="dialog"
        aria-modal="true"
        aria-labelledby="key-heading"
        onSubmit={(event) => {
          event.preventDefault();
          if (key().trim()) setApiKey(key());
        }}
      >
        <h2 id="key-heading">This server needs an API key</h2>
        <Show when={keyRejected()}>
          <p class="error" role="alert">
            The key was refused. Check it and try again.
          </p>
        </Show>
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="off" value={key()} onInput={(event) => setKey(event.currentTarget.value)} autofocus />
        <p class="muted small">It is kept in this browser (localStorage) until you choose “Forget key”.</p>
        <div class="form-actions">
          <button type="submit" disabled={!key().trim()}>
            Use key
          </button>
        </div>
      </form>
    </div>
  );
}
