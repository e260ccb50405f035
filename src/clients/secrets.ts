/**
 * How a client secret is kept: only HMAC-SHA-256(pepper, secret), so a copy of the database does
 * not let anyone authenticate as the client (RFC 6819 §5.1.4.1.3: store credentials hashed).
 * The engine (authz/clients.ts) compares against this; registration and rotation produce it.
 */
import type { AdapterPayload } from 'oidc-provider';
import type { ClientRecord, ClientRecordKind } from '../store/clients.ts';
import { keyedHash, type SecretKey } from '../core/crypto.ts';

/** Stored client secrets carry this prefix: the value after it is HMAC-SHA-256(pepper, secret). */
export const HASHED = 'hmac:';

export function hashClientSecret(pepper: SecretKey, secret: string): string {
  return `${HASHED}${keyedHash(pepper, `client-secret:${secret}`)}`;
}

/** Engine metadata → stored record, with the secret (if any) replaced by its keyed hash. */
export function clientToRecord(metadata: AdapterPayload | Record<string, unknown>, pepper: SecretKey, kind: ClientRecordKind): Omit<ClientRecord, 'createdAt' | 'lastUsedAt'> {
  const copy: Record<string, unknown> = { ...metadata };
  const secret = copy.client_secret;
  if (typeof secret === 'string' && !secret.startsWith(HASHED)) copy.client_secret = hashClientSecret(pepper, secret);
  return { clientId: String(copy.client_id), metadata: copy, kind };
}
