/**
 * OAuth clients: how they are stored, how their secrets are compared, how their redirect URIs
 * match, and whether their identity is proven (which decides if consent may be remembered).
 */
import type { ClientRecord } from '../store/clients.ts';
import { CLI_CLIENT_ID } from '../shared/cli-client.ts';
import type { AdapterPayload, ClientMetadata } from 'oidc-provider';
import { constantTimeEqual, type SecretKey } from '../core/crypto.ts';
import { HASHED, hashClientSecret } from '../clients/secrets.ts';
import { withoutLoopbackPort } from '../clients/redirect-uris.ts';

// The stored form and the redirect-URI rules live in clients/ (the console and the CLI register
// clients with them too); re-exported for the engine's modules.
export { clientToRecord, hashClientSecret } from '../clients/secrets.ts';
export { insecureRedirectUri } from '../clients/redirect-uris.ts';

export function clientFromRecord(record: ClientRecord): AdapterPayload {
  return { ...record.metadata, client_id: record.clientId };
}

/** Replaces the engine's plaintext comparison (it compares `client_secret` as stored). */
export function compareHashedSecret(pepper: SecretKey, stored: string | undefined, presented: string): boolean {
  if (!stored?.startsWith(HASHED)) return false;
  return constantTimeEqual(hashClientSecret(pepper, presented), stored);
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
