/**
 * The authorization server's metadata (RFC 8414), for the endpoints the guard needs when it was
 * not told them: `jwks_uri` and `introspection_endpoint`.
 *
 * Tried in order: the RFC 8414 §3.1 URL (well-known segment inserted between host and the issuer's
 * path), then OpenID Connect Discovery 1.0 §4 (`<issuer>/.well-known/openid-configuration`).
 * Checked: the document's `issuer` is exactly ours (RFC 8414 §3.3 — otherwise a metadata document
 * could send us to another server's keys). A failure is not remembered: the next call tries again.
 */
import { SharedError } from './errors.ts';
import type { GuardFetch } from './outbound.ts';

export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  [key: string]: unknown;
}

export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
}

export function createMetadataSource(issuer: string, fetch: GuardFetch): () => Promise<AuthorizationServerMetadata> {
  let pending: Promise<AuthorizationServerMetadata> | undefined;

  async function load(): Promise<AuthorizationServerMetadata> {
    let lastError: unknown;
    for (const url of metadataUrls(issuer)) {
      let document: AuthorizationServerMetadata;
      try {
        const response = await fetch(url, { headers: { accept: 'application/json' } });
        if (response.status !== 200) {
          await response.body?.cancel();
          lastError = new SharedError('discovery_failed', `${url} answered ${response.status}`);
          continue;
        }
        document = (await response.json()) as AuthorizationServerMetadata;
      } catch (err) {
        lastError = err;
        continue;
      }
      // Found, but for another issuer: that is an attack or a misconfiguration, never a fallback case.
      if (!document || typeof document !== 'object' || document.issuer !== issuer) {
        throw new SharedError('discovery_failed', `the metadata at ${url} names another issuer`);
      }
      return document;
    }
    throw lastError instanceof Error ? lastError : new SharedError('discovery_failed', 'no authorization server metadata found');
  }

  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
