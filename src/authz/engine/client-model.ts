/** Engine gaps closed on the per-provider Client class. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import type { SecretKey } from '../../core/crypto.ts';
import { compareHashedSecret, redirectUriAllowed } from '../clients.ts';

export function patchClientModel(provider: Provider, pepper: SecretKey): void {
  const proto = provider.Client.prototype as unknown as {
    clientSecret?: string;
    redirectUris: string[];
    compareClientSecret(actual: string): Promise<boolean> | boolean;
    redirectUriAllowed(value: string): boolean;
  };
  // Secrets are stored as keyed hashes; the engine would compare them in plaintext.
  proto.compareClientSecret = function compareClientSecret(this: typeof proto, actual: string) {
    return compareHashedSecret(pepper, this.clientSecret, actual);
  };
  // Loopback redirect URIs match on any port for every client type (RFC 8252 §7.3).
  proto.redirectUriAllowed = function allowed(this: typeof proto, value: string) {
    return redirectUriAllowed(this.redirectUris, value);
  };
}

/** Client lookups of the engine request being served (see memoizeClientLookups). */
const clientLookups = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/**
 * Engine gap (found by test/cimd/ssrf.test.ts): when a client cannot be resolved at the
 * authorization endpoint, the engine's error handler looks it up a second time. Failed Client ID
 * Metadata Document fetches are (rightly) not cached, so every refused request fetched the
 * document twice, and a document server that never answers held the request for two fetch
 * timeouts (5 s instead of 2.5 s). Within one request the first lookup's outcome is reused;
 * across requests nothing is remembered, so a fixed document works on the next try.
 */
export function memoizeClientLookups(provider: Provider): void {
  const Client = provider.Client as unknown as { find(id: unknown, ...rest: unknown[]): Promise<unknown> };
  const find = Client.find.bind(Client);
  Client.find = (id, ...rest) => {
    const memo = clientLookups.getStore();
    if (!memo || typeof id !== 'string' || !/^https:\/\//i.test(id)) return find(id, ...rest);
    let lookup = memo.get(id);
    if (!lookup) {
      lookup = find(id, ...rest);
      memo.set(id, lookup);
    }
    return lookup;
  };
}

/** The koa middleware that gives each engine request its own lookups (memoizeClientLookups). */
export function clientLookupsPerRequest(_ctx: unknown, next: () => Promise<void>): Promise<void> {
  return clientLookups.run(new Map(), next);
}
