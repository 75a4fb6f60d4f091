/**
 * Turns the key a request presents into a Caller, or null. Unknown, revoked and malformed
 * keys are indistinguishable to the caller. With authentication off, everyone is the
 * anonymous caller with every scope.
 */
import { hashKey, keyIdOf, sameHash, type StoredKey } from './api-keys.ts';
import type { KeyStore } from './key-store.ts';
import { anonymousCaller, type Caller } from './scopes.ts';

export interface AuthenticatorOptions {
  required: boolean;
  /** Hashed API_KEYS entries. */
  envKeys: readonly StoredKey[];
  store: KeyStore;
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

export function createAuthenticator(options: AuthenticatorOptions) {
  const envKeys = new Map(options.envKeys.map((key) => [key.id, key]));

  /** Throws when Redis cannot be asked (the caller answers UNAVAILABLE, not 401). */
  async function authenticate(presented: string | null): Promise<Caller | null> {
    if (!options.required) return anonymousCaller();
    if (!presented || presented.length > 512) return null;
    const hash = hashKey(presented);
    const id = keyIdOf(hash);
    const lookup = await options.store.find(id);
    const key = envKeys.get(id) ?? lookup.key;
    if (!key || lookup.revoked || !sameHash(hash, key.hash)) return null;
    return { tenant: key.tenant, actor: key.id, scopes: new Set(key.scopes) };
  }

  return { required: options.required, authenticate };
}
