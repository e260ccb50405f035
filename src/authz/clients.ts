/**
 * OAuth clients: how they are stored, how their secrets are compared, how their redirect URIs
 * match, and whether their identity is proven (which decides if consent may be remembered).
 */
import type { ClientRecord, ClientRecordKind } from '../store/clients.ts';
import { CLI_CLIENT_ID } from '../shared/cli-client.ts';
import type { AdapterPayload, ClientMetadata } from 'oidc-provider';
import { constantTimeEqual, keyedHash, type SecretKey } from '../core/crypto.ts';

/** Stored client secrets carry this prefix: the value after it is HMAC-SHA-256(pepper, secret). */
const HASHED = 'hmac:';

export function hashClientSecret(pepper: SecretKey, secret: string): string {
  return `${HASHED}${keyedHash(pepper, `client-secret:${secret}`)}`;
}

/** Engine metadata → stored record, with the secret (if any) replaced by its keyed hash. */
export function clientToRecord(metadata: AdapterPayload, pepper: SecretKey, kind: ClientRecordKind): Omit<ClientRecord, 'createdAt' | 'lastUsedAt'> {
  const copy: Record<string, unknown> = { ...metadata };
  const secret = copy.client_secret;
  if (typeof secret === 'string' && !secret.startsWith(HASHED)) copy.client_secret = hashClientSecret(pepper, secret);
  return { clientId: String(copy.client_id), metadata: copy, kind };
}

export function clientFromRecord(record: ClientRecord): AdapterPayload {
  return { ...record.metadata, client_id: record.clientId };
}

/** Replaces the engine's plaintext comparison (it compares `client_secret` as stored). */
export function compareHashedSecret(pepper: SecretKey, stored: string | undefined, presented: string): boolean {
  if (!stored?.startsWith(HASHED)) return false;
  return constantTimeEqual(hashClientSecret(pepper, presented), stored);
}

const LOOPBACK_REDIRECT = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?([/?][^#]*)?$/;

/** `http://127.0.0.1:54321/cb` → `http://127.0.0.1/cb`; undefined for anything not a loopback http URI. */
function withoutLoopbackPort(uri: string): string | undefined {
  const match = LOOPBACK_REDIRECT.exec(uri);
  return match ? `http://${match[1]}${match[2] ?? ''}` : undefined;
}

/**
 * Exact string match (OAuth 2.1 §4.1.1 / RFC 9700 §4.1.3), except that a loopback redirect URI
 * matches on any port (RFC 8252 §7.3): native clients listen on an ephemeral port. The engine only
 * does this for `application_type: native`, but MCP clients register as `web` with loopback URIs.
 * Compared as raw strings with only the port removed: no normalization an attacker could steer.
 */
export function redirectUriAllowed(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  const bare = withoutLoopbackPort(presented);
  if (bare === undefined) return false;
  return registered.some((uri) => withoutLoopbackPort(uri) === bare);
}

/** Non-loopback http redirect URIs are refused (OAuth 2.1 §2.3.1: only loopback may use http). */
export function insecureRedirectUri(uris: readonly string[]): string | undefined {
  return uris.find((uri) => {
    const parsed = URL.parse(uri);
    return parsed?.protocol === 'http:' && withoutLoopbackPort(uri) === undefined;
  });
}

export interface ClientIdentityView {
  clientId: string;
  clientAuthMethod: string;
  redirectUris: readonly string[];
  /** True for clients resolved from a Client ID Metadata Document. */
  clientIdMetadataDocument?: boolean;
}

/**
 * Whether the authorization server can be sure which client it is talking to, so that a
 * remembered consent cannot be replayed by an impostor (RFC 8252 §8.6, RFC 9700 §4.15):
 * confidential clients authenticate; a metadata-document client whose redirect URIs are all
 * https on its own client_id's host can only receive codes on that host. Public clients with
 * loopback or custom-scheme redirects can be impersonated by any local program.
 */
export function identityProven(client: ClientIdentityView): boolean {
  if (client.clientAuthMethod !== 'none') return true;
  if (!client.clientIdMetadataDocument) return false;
  const host = URL.parse(client.clientId)?.host;
  return (
    client.redirectUris.length > 0 &&
    client.redirectUris.every((uri) => {
      const parsed = URL.parse(uri);
      return parsed?.protocol === 'https:' && parsed.host === host;
    })
  );
}

/** The pre-registered public client of the `portcullis` CLI (device flow, no secret). */
export const cliClient: ClientMetadata = {
  client_id: CLI_CLIENT_ID,
  client_name: 'Portcullis CLI',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'authorization_code'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback'],
};
